#include "services/common/rpc_metrics.h"

#include <chrono>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "prometheus/counter.h"
#include "prometheus/histogram.h"
#include "services/common/grpc_status.h"

namespace reception {
namespace {

// Whether "/pkg.Service/Method" names a method compiled into this program.
// A client chooses the method name before it is authenticated: labelling by
// whatever it sent would let anyone grow the series without bound.
bool KnownMethod(const std::string& service, const std::string& method) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* known = new absl::flat_hash_set<std::string>();
  const std::string key = absl::StrCat(service, "/", method);
  {
    absl::ReaderMutexLock lock(&mu);
    if (known->contains(key)) return true;
  }
  // gRPC's default health service is built without protobuf descriptors.
  const bool health =
      service == "grpc.health.v1.Health" && (method == "Check" || method == "Watch");
  const auto* svc = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (!health && (svc == nullptr || svc->FindMethodByName(method) == nullptr)) return false;
  absl::MutexLock lock(&mu);
  known->insert(key);
  return true;
}

struct Families {
  prometheus::Family<prometheus::Counter>* started;
  prometheus::Family<prometheus::Counter>* handled;
  prometheus::Family<prometheus::Histogram>* seconds;
};

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(const Families& f, grpc::experimental::ServerRpcInfo* info)
      : families_(f), start_(std::chrono::steady_clock::now()) {
    // "/reception.cases.v1.CaseService/CreateCase"
    std::vector<std::string> parts =
        absl::StrSplit(info->method() ? info->method() : "", '/', absl::SkipEmpty());
    service_ = parts.size() > 0 ? parts[0] : "unknown";
    method_ = parts.size() > 1 ? parts[1] : "unknown";
    if (parts.size() != 2 || !KnownMethod(service_, method_)) service_ = method_ = "unknown";
    families_.started->Add({{"grpc_service", service_}, {"grpc_method", method_}}).Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      families_.handled
          ->Add({{"grpc_service", service_},
                 {"grpc_method", method_},
                 {"grpc_code", GrpcCodeName(status.error_code())}})
          .Increment();
      families_.seconds
          ->Add({{"grpc_service", service_}, {"grpc_method", method_}},
                prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                        2.5, 5, 10})
          .Observe(seconds);
    }
    methods->Proceed();
  }

 private:
  const Families& families_;
  std::chrono::steady_clock::time_point start_;
  std::string service_;
  std::string method_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {
    families_.started = &prometheus::BuildCounter()
                             .Name("reception_grpc_server_started_total")
                             .Help("RPCs started on the server")
                             .Register(*registry_);
    families_.handled = &prometheus::BuildCounter()
                             .Name("reception_grpc_server_handled_total")
                             .Help("RPCs completed on the server, by status code")
                             .Register(*registry_);
    families_.seconds = &prometheus::BuildHistogram()
                             .Name("reception_grpc_server_handling_seconds")
                             .Help("Time from receiving an RPC to sending its status")
                             .Register(*registry_);
  }
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(families_, info);
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  Families families_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry) {
  return std::make_unique<Factory>(std::move(registry));
}

}  // namespace reception
