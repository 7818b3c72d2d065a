// loadgen: a closed-loop gRPC load generator on the callback API.
//
// N slots each keep one unary call in flight on a generic stub (so the same
// client drives our services and etcd alike); latencies are recorded per call
// after the warm-up and reported as JSON with QPS and p50/p90/p99/max.
//
//   loadgen --target 127.0.0.1:50051 --method create --concurrency 64
//           --duration 10 --warmup 2 --unit 48
//
// Methods: noop (grpc.health.v1.Health/Check), get (CaseService/GetCase of
// --case), create (durable CaseService/CreateCase, a new request id each
// call), etcd-put (etcdserverpb.KV/Put of --value_bytes under a fresh key).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "reception/cases/v1/case_service.pb.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/credentials.h"
#include "tools/loadgen/etcd_kv.pb.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "Server address");
ABSL_FLAG(std::string, method, "noop", "noop | get | create | etcd-put");
ABSL_FLAG(int, concurrency, 16, "Calls kept in flight");
ABSL_FLAG(int, channels, 4, "Channels (TCP connections) the calls are spread over");
ABSL_FLAG(double, duration, 10, "Measured seconds");
ABSL_FLAG(double, warmup, 2, "Seconds before measuring");
ABSL_FLAG(std::string, unit, "48", "Unit code of the principal (our server)");
ABSL_FLAG(std::string, case_name, "", "Case for --method get");
ABSL_FLAG(int, value_bytes, 1024, "Value size for etcd-put; content size for create");
ABSL_FLAG(int, repeat_percent, 10,
          "create: percent of calls naming a citizen an earlier call of the run named");
ABSL_FLAG(std::string, label, "", "Free text copied into the JSON output");
ABSL_FLAG(std::string, ca, "", "CA bundle: TLS to a node in mTLS mode");
ABSL_FLAG(std::string, cert, "", "Client certificate (with --key)");
ABSL_FLAG(std::string, key, "", "Client key");
ABSL_FLAG(std::string, token_file, "",
          "A bearer token (JWT) to present on every call instead of development metadata");

namespace {

using Clock = std::chrono::steady_clock;

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

class Load {
 public:
  Load() {
    method_ = absl::GetFlag(FLAGS_method);
    if (method_ == "noop") {
      path_ = "/grpc.health.v1.Health/Check";
    } else if (method_ == "get") {
      path_ = "/reception.cases.v1.CaseService/GetCase";
      reception::cases::v1::GetCaseRequest r;
      r.set_name(absl::GetFlag(FLAGS_case_name));
      fixed_ = Serialize(r);
    } else if (method_ == "create") {
      path_ = "/reception.cases.v1.CaseService/CreateCase";
    } else if (method_ == "etcd-put") {
      path_ = "/etcdserverpb.KV/Put";
    } else {
      std::cerr << "unknown --method " << method_ << "\n";
      std::exit(2);
    }
    if (method_ == "noop") {
      std::string empty;
      grpc::Slice s(empty);
      fixed_ = grpc::ByteBuffer(&s, 1);
    }
    auto credentials = reception::Credentials::FromConfig(reception::config::v1::AuthConfig());
    if (!absl::GetFlag(FLAGS_ca).empty()) {
      auto tls = reception::Credentials::ForClient(
          absl::GetFlag(FLAGS_ca), absl::GetFlag(FLAGS_cert), absl::GetFlag(FLAGS_key));
      if (!tls.ok()) {
        fprintf(stderr, "loadgen: %s\n", std::string(tls.status().message()).c_str());
        exit(2);
      }
      credentials = *tls;
    }
    for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_channels)); ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("loadgen.channel", i);  // distinct args: a connection per channel
      stubs_.push_back(std::make_unique<grpc::GenericStub>(
          credentials->NewChannel(absl::GetFlag(FLAGS_target), args)));
    }
    if (!absl::GetFlag(FLAGS_token_file).empty()) {
      std::ifstream in(absl::GetFlag(FLAGS_token_file));
      std::string token;
      in >> token;
      if (token.empty()) {
        fprintf(stderr, "loadgen: no token in %s\n", absl::GetFlag(FLAGS_token_file).c_str());
        exit(2);
      }
      authorization_ = "Bearer " + token;
    }
    value_.assign(absl::GetFlag(FLAGS_value_bytes), 'v');
    today_ = reception::ToProtoDate(reception::SystemClock().Today());
    run_id_ = absl::StrFormat("%x", std::chrono::system_clock::now().time_since_epoch().count());
    citizen_base_ = absl::Hash<std::string>()(run_id_) % 1000000000000ULL;
  }

  // Each run draws its citizens from its own range of IDs (a run that
  // reused the last run's would find every new case a repeat of several
  // earlier ones, more of them each run); --repeat_percent of the calls name
  // a citizen an earlier call of this run named, so duplicate detection
  // finds some matches, as at a real desk.
  std::string CitizenId(uint64_t n) const {
    const uint64_t repeat = absl::GetFlag(FLAGS_repeat_percent);
    uint64_t who = n;
    if (repeat > 0 && n > 100 && n % 100 < repeat) who = n / 2;
    return absl::StrFormat("%012d", (citizen_base_ + who) % 1000000000000ULL);
  }

  grpc::ByteBuffer Request(uint64_t n) {
    if (method_ == "create") {
      reception::cases::v1::CreateCaseRequest r;
      r.set_request_id(absl::StrCat("load-", run_id_, "-", n));
      auto* c = r.mutable_case_();
      c->set_kind(reception::cases::v1::CASE_KIND_PETITION);
      c->set_channel(reception::cases::v1::CHANNEL_PORTAL);
      auto* p = c->add_petitioners();
      p->set_full_name("Nguyễn Văn Tải");
      p->set_citizen_id(CitizenId(n));
      c->mutable_respondent()->set_official_name("Phòng Tài nguyên");
      c->set_content(value_);
      *c->mutable_received_date() = today_;
      return Serialize(r);
    }
    if (method_ == "etcd-put") {
      etcdserverpb::PutRequest r;
      r.set_key(absl::StrCat("load/", run_id_, "/", n));
      r.set_value(value_);
      return Serialize(r);
    }
    return fixed_;
  }

  nlohmann::json Run() {
    const int concurrency = absl::GetFlag(FLAGS_concurrency);
    start_ = Clock::now();
    measure_from_ = start_ + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(absl::GetFlag(FLAGS_warmup)));
    end_ = measure_from_ + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(absl::GetFlag(FLAGS_duration)));
    slots_.resize(concurrency);
    active_ = concurrency;
    for (int i = 0; i < concurrency; ++i) {
      slots_[i].stub = stubs_[i % stubs_.size()].get();
      Issue(&slots_[i]);
    }
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int* a) { return *a == 0; }, &active_));
    }
    std::vector<double> all;
    uint64_t errors = 0;
    std::map<std::string, uint64_t> codes;
    for (auto& s : slots_) {
      all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
      errors += s.errors;
      for (auto& [k, v] : s.codes) codes[k] += v;
    }
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) {
      if (all.empty()) return 0.0;
      size_t i = std::min(all.size() - 1, static_cast<size_t>(p * all.size()));
      return all[i] / 1000.0;
    };
    const double seconds = absl::GetFlag(FLAGS_duration);
    nlohmann::json out;
    out["label"] = absl::GetFlag(FLAGS_label);
    out["method"] = method_;
    out["target"] = absl::GetFlag(FLAGS_target);
    out["concurrency"] = concurrency;
    out["channels"] = stubs_.size();
    out["duration_s"] = seconds;
    out["ok"] = all.size();
    out["errors"] = errors;
    out["error_codes"] = codes;
    out["qps"] = all.size() / seconds;
    out["p50_ms"] = pct(0.50);
    out["p90_ms"] = pct(0.90);
    out["p99_ms"] = pct(0.99);
    out["max_ms"] = all.empty() ? 0.0 : all.back() / 1000.0;
    return out;
  }

 private:
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    std::unique_ptr<grpc::ClientContext> ctx;
    grpc::ByteBuffer request, response;
    Clock::time_point sent;
    std::vector<double> latencies_us;
    uint64_t errors = 0;
    std::map<std::string, uint64_t> codes;
  };

  void Issue(Slot* s) {
    const auto now = Clock::now();
    if (now >= end_) {
      absl::MutexLock lock(&mu_);
      --active_;
      return;
    }
    s->ctx = std::make_unique<grpc::ClientContext>();
    s->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (method_ != "etcd-put" && !authorization_.empty()) {
      s->ctx->AddMetadata("authorization", authorization_);
    } else if (method_ != "etcd-put") {
      s->ctx->AddMetadata("x-reception-subject", "loadgen");
      s->ctx->AddMetadata("x-reception-role", "officer");
      s->ctx->AddMetadata("x-reception-unit", absl::GetFlag(FLAGS_unit));
    }
    s->request = Request(counter_.fetch_add(1));
    s->sent = now;
    s->stub->UnaryCall(s->ctx.get(), path_, grpc::StubOptions(), &s->request, &s->response,
                       [this, s](grpc::Status status) {
                         const auto done = Clock::now();
                         if (s->sent >= measure_from_ && done <= end_) {
                           if (status.ok()) {
                             s->latencies_us.push_back(
                                 std::chrono::duration<double, std::micro>(done - s->sent).count());
                           } else {
                             ++s->errors;
                             ++s->codes[std::to_string(status.error_code()) + " " +
                                        status.error_message().substr(0, 80)];
                           }
                         }
                         Issue(s);
                       });
  }

  std::string method_, path_, run_id_;
  uint64_t citizen_base_ = 0;
  std::string authorization_;  // "Bearer <token>" with --token_file
  grpc::ByteBuffer fixed_;
  std::string value_;
  reception::type::v1::Date today_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<Slot> slots_;
  std::atomic<uint64_t> counter_{0};
  Clock::time_point start_, measure_from_, end_;
  absl::Mutex mu_;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("loadgen: closed-loop gRPC load generator (see the source header)");
  absl::ParseCommandLine(argc, argv);
  Load load;
  std::cout << load.Run().dump() << std::endl;
  return 0;
}
