#include "services/common/rpc_metrics.h"

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
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

// One method's series, made once: a call then only increments and observes
// (no label maps, no family lookups on the hot path).
struct MethodMetrics {
  prometheus::Counter* started = nullptr;
  prometheus::Histogram* seconds = nullptr;
  // By status code, made on the first call that ends with it.
  std::array<std::atomic<prometheus::Counter*>, 17> handled{};
  std::string service, method;
};

class Factory;

class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(Factory* factory, MethodMetrics* m)
      : factory_(factory), metrics_(m), start_(std::chrono::steady_clock::now()) {
    metrics_->started->Increment();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override;

 private:
  Factory* factory_;
  MethodMetrics* metrics_;
  std::chrono::steady_clock::time_point start_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)) {
    started_ = &prometheus::BuildCounter()
                    .Name("reception_grpc_server_started_total")
                    .Help("RPCs started on the server")
                    .Register(*registry_);
    handled_ = &prometheus::BuildCounter()
                    .Name("reception_grpc_server_handled_total")
                    .Help("RPCs completed on the server, by status code")
                    .Register(*registry_);
    seconds_ = &prometheus::BuildHistogram()
                    .Name("reception_grpc_server_handling_seconds")
                    .Help("Time from receiving an RPC to sending its status")
                    .Register(*registry_);
    unknown_ = Make("unknown", "unknown");
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(this, For(info->method() ? info->method() : ""));
  }

  // The series of "/pkg.Service/Method"; a name not compiled into this
  // program shares the "unknown" series and is never remembered.
  MethodMetrics* For(absl::string_view path) {
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto it = by_path_.find(path); it != by_path_.end()) return it->second.get();
    }
    std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
    if (parts.size() != 2 || !KnownMethod(parts[0], parts[1])) return unknown_.get();
    absl::MutexLock lock(&mu_);
    auto& slot = by_path_[path];
    if (!slot) slot = Make(parts[0], parts[1]);
    return slot.get();
  }

  prometheus::Counter* Handled(MethodMetrics* m, grpc::StatusCode code) {
    const int i = static_cast<int>(code);
    const size_t index = (i >= 0 && i <= 16) ? static_cast<size_t>(i) : 2;  // UNKNOWN
    prometheus::Counter* c = m->handled[index].load(std::memory_order_acquire);
    if (c != nullptr) return c;
    c = &handled_->Add({{"grpc_service", m->service},
                        {"grpc_method", m->method},
                        {"grpc_code", GrpcCodeName(static_cast<grpc::StatusCode>(index))}});
    m->handled[index].store(c, std::memory_order_release);
    return c;
  }

 private:
  std::unique_ptr<MethodMetrics> Make(const std::string& service, const std::string& method) {
    auto m = std::make_unique<MethodMetrics>();
    m->service = service;
    m->method = method;
    m->started = &started_->Add({{"grpc_service", service}, {"grpc_method", method}});
    m->seconds = &seconds_->Add(
        {{"grpc_service", service}, {"grpc_method", method}},
        prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    return m;
  }

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* started_;
  prometheus::Family<prometheus::Counter>* handled_;
  prometheus::Family<prometheus::Histogram>* seconds_;
  std::unique_ptr<MethodMetrics> unknown_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MethodMetrics>> by_path_ ABSL_GUARDED_BY(mu_);
};

void RpcMetricsInterceptor::Intercept(grpc::experimental::InterceptorBatchMethods* methods) {
  if (methods->QueryInterceptionHookPoint(
          grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
    const grpc::Status status = methods->GetSendStatus();
    factory_->Handled(metrics_, status.error_code())->Increment();
    metrics_->seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  methods->Proceed();
}

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry) {
  return std::make_unique<Factory>(std::move(registry));
}

}  // namespace reception
