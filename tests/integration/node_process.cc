#include "tests/integration/node_process.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "services/common/civil_date.h"
#include "services/common/credentials.h"
#include "services/common/jwt.h"
#include "services/common/test_support.h"

namespace reception::testing {

namespace {

absl::Mutex pki_mu(absl::kConstInit);

std::string RunPki(const std::string& args) {
  const std::string cmd =
      absl::StrCat("bash ", SourcePath("tools/pki/dev_pki.sh"), " ", args, " >/dev/null 2>&1");
  return std::system(cmd.c_str()) == 0 ? "" : cmd;
}

struct TestIssuer {
  std::string key_pem;
};

const TestIssuer& Issuer() {
  static const TestIssuer* issuer = [] {
    const std::string dir = TestPkiDir();
    auto* out = new TestIssuer;
    out->key_pem = ReadFile(dir + "/tokens/issuer.key");
    return out;
  }();
  return *issuer;
}

}  // namespace

std::string TestPkiDir() {
  static const std::string* dir = [] {
    // Lives as long as the test program; removed with it (TempDir at exit).
    static TempDir temp;
    const std::string pki = temp.Join("pki");
    if (const std::string failed = RunPki(absl::StrCat(pki, " --ca-only")); !failed.empty()) {
      std::fprintf(stderr, "cannot create the test PKI: %s\n", failed.c_str());
      std::abort();
    }
    std::filesystem::create_directories(pki + "/tokens");
    const std::string key = pki + "/tokens/issuer.key";
    if (std::system(
            absl::StrCat("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ",
                         key, " 2>/dev/null")
                .c_str()) != 0) {
      std::fprintf(stderr, "cannot create the test token key\n");
      std::abort();
    }
    auto jwk = PublicJwkJson(ReadFile(key), "test-1");
    if (!jwk.ok()) {
      std::fprintf(stderr, "cannot write the test JWKS: %s\n",
                   std::string(jwk.status().message()).c_str());
      std::abort();
    }
    WriteFile(pki + "/tokens/jwks.json", absl::StrCat("{\"keys\": [", *jwk, "]}"));
    return new std::string(pki);
  }();
  return *dir;
}

void EnsureNodeCertificate(const std::string& unit) {
  const std::string dir = TestPkiDir();
  absl::MutexLock lock(&pki_mu);
  if (std::filesystem::exists(dir + "/" + unit + "/node.crt")) return;
  if (const std::string failed = RunPki(absl::StrCat(dir, " ", unit)); !failed.empty()) {
    std::fprintf(stderr, "cannot issue a test certificate: %s\n", failed.c_str());
    std::abort();
  }
}

std::string TestToken(const std::string& role, const std::string& unit,
                      const std::string& subject) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* cache = new std::map<std::string, std::string>();
  const std::string key = absl::StrCat(role, "|", unit, "|", subject);
  absl::MutexLock lock(&mu);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  nlohmann::json claims = {{"iss", "https://id.test.reception"},
                           {"aud", "reception"},
                           {"sub", subject},
                           {"reception_role", role},
                           {"reception_unit", unit},
                           {"iat", now - 60},
                           {"exp", now + 6 * 3600}};
  auto token = IssueToken(Issuer().key_pem, "test-1", "ES256", claims.dump());
  if (!token.ok()) {
    std::fprintf(stderr, "cannot issue a test token: %s\n",
                 std::string(token.status().message()).c_str());
    std::abort();
  }
  (*cache)[key] = *token;
  return *token;
}

NodeProcess::NodeProcess(Options options) : options_(std::move(options)) {
  if (options_.transport == Options::Transport::kMtls) {
    if (options_.tls_dir.empty()) {
      options_.tls_dir = TestPkiDir();
      EnsureNodeCertificate(options_.unit_code);
    }
  } else {
    options_.tls_dir.clear();
  }
  WriteFile(
      config_path(),
      absl::StrCat(
          "unit_code: \"", options_.unit_code, "\"\n",
          "listen_address: 127.0.0.1:", options_.listen_port, "\n", "admin_address: 127.0.0.1:0\n",
          "data_dir: ", options_.work_dir, "/data\n", "topology_file: ",
          options_.topology.rfind("/", 0) == 0 ? options_.topology : SourcePath(options_.topology),
          "\n", "rules_file: ", SourcePath("deploy/rules/vn.yaml"), "\n", "calendar_file: ",
          options_.calendar_file.empty() ? SourcePath("deploy/calendars/vn-2025-2026.yaml")
                                         : options_.calendar_file,
          "\n", "storage: {sync_policy: ", options_.sync_policy, "}\n",
          "shutdown_grace_seconds: 5\n",
          options_.tls_dir.empty()
              ? std::string()
              : absl::StrCat("auth:\n  mode: mtls\n  tls:\n", "    ca_file: ", options_.tls_dir,
                             "/ca.crt\n", "    cert_file: ", options_.tls_dir, "/",
                             options_.unit_code, "/node.crt\n", "    key_file: ", options_.tls_dir,
                             "/", options_.unit_code, "/node.key\n", "    refresh_seconds: 1\n",
                             "  jwt:\n    jwks_file: ", TestPkiDir(), "/tokens/jwks.json\n",
                             "    issuer: https://id.test.reception\n    audience: reception\n"),
          "federation:\n  retry_initial_millis: 50\n  retry_max_millis: 500\n"
          "  call_timeout_millis: 3000\n  peers:\n"));
  std::string peers;
  for (const auto& [unit, address] : options_.peers) {
    absl::StrAppend(&peers, "    - {unit_code: \"", unit, "\", address: \"", address, "\"}\n");
  }
  if (options_.peers.empty()) peers = "    []\n";
  // The shipped forms, unless the test configures documents itself.
  const std::string documents =
      absl::StrContains(options_.extra_config, "documents:")
          ? ""
          : absl::StrCat("documents: {forms_file: ", SourcePath("deploy/forms/vn.yaml"), "}\n");
  WriteFile(config_path(), ReadFile(config_path()) + peers + documents + options_.extra_config);
}

int NodeProcess::FreePort() {
  int ephemeral_low = 32768;
  {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    if (range >> low && low > 12000) ephemeral_low = low;
  }
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> pick(10000, ephemeral_low - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (free) return port;
  }
  return 0;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) Kill();
}

std::string NodeProcess::log_path() const { return options_.work_dir + "/node.log"; }
std::string NodeProcess::config_path() const { return options_.work_dir + "/node.yaml"; }

absl::Status NodeProcess::Start(absl::Duration timeout) {
  const std::string ready = absl::StrCat(options_.work_dir, "/ready");
  std::filesystem::remove(ready);
  ++starts_;
  std::vector<std::string> args = {options_.binary, "--config", config_path(), "--ready_file",
                                   ready};
  for (const auto& a : options_.extra_args) args.push_back(a);
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid_ < 0) return absl::InternalError("fork failed");
  bool exited = false;
  const bool up = WaitFor(
      [&] {
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = true;
          return true;
        }
        return std::filesystem::exists(ready);
      },
      timeout);
  if (exited) {
    pid_ = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("node exited at start-up:\n", ReadFile(log_path())));
  }
  if (!up) return absl::DeadlineExceededError("node did not become ready");
  for (absl::string_view line : absl::StrSplit(ReadFile(ready), '\n')) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, '=');
    if (kv.first == "grpc_port") (void)absl::SimpleAtoi(kv.second, &port_);
    if (kv.first == "admin_port") (void)absl::SimpleAtoi(kv.second, &admin_port_);
  }
  auto health = grpc::health::v1::Health::NewStub(NewChannel());
  const bool serving = WaitFor(
      [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
        grpc::health::v1::HealthCheckRequest req;
        grpc::health::v1::HealthCheckResponse resp;
        return health->Check(&ctx, req, &resp).ok() &&
               resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      },
      timeout);
  return serving ? absl::OkStatus() : absl::DeadlineExceededError("node never reported SERVING");
}

int NodeProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = -1;
  const bool done = WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
  if (!done) {
    Kill();
    return -1;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int NodeProcess::WaitExit(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  int status = -1;
  if (!WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) return -1;
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void NodeProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::shared_ptr<grpc::Channel> NodeProcess::NewChannel() const {
  grpc::ChannelArguments args;
  // A fresh connection per channel, so a restarted node is reached at once.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("grpc.testing.fixed_reconnect_backoff_ms", 100);
  if (options_.tls_dir.empty())
    return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
  auto tls = Credentials::ForClient(options_.tls_dir + "/ca.crt", "", "");
  return (*tls)->NewChannel(address(), args);
}

std::string NodeProcess::CliFlags(const std::string& role, const std::string& unit) const {
  if (options_.tls_dir.empty()) {
    return absl::StrCat(" --server ", address(), " --unit ", unit, " --role ", role, " ");
  }
  return absl::StrCat(" --server ", address(), " --ca ", options_.tls_dir, "/ca.crt --token ",
                      TestToken(role, unit, "cli"), " ");
}

std::shared_ptr<grpc::Channel> NodeProcess::NewChannelAs(const std::string& unit) const {
  if (options_.tls_dir == TestPkiDir()) EnsureNodeCertificate(unit);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto tls = Credentials::ForClient(options_.tls_dir + "/ca.crt",
                                    options_.tls_dir + "/" + unit + "/node.crt",
                                    options_.tls_dir + "/" + unit + "/node.key");
  return (*tls)->NewChannel(address(), args);
}

void AddPrincipal(grpc::ClientContext* ctx, const std::string& role, const std::string& unit,
                  const std::string& subject) {
  ctx->AddMetadata("x-reception-subject", subject);
  ctx->AddMetadata("x-reception-role", role);
  ctx->AddMetadata("x-reception-unit", unit);
  if (role != "node") ctx->AddMetadata("authorization", "Bearer " + TestToken(role, unit, subject));
}

cases::v1::CreateCaseRequest SampleCase(cases::v1::CaseKind kind, const std::string& request_id,
                                        const std::string& respondent_unit, absl::CivilDay received,
                                        const std::string& content) {
  cases::v1::CreateCaseRequest r;
  r.set_request_id(request_id);
  auto* c = r.mutable_case_();
  c->set_kind(kind);
  if (kind == cases::v1::CASE_KIND_COMPLAINT)
    c->set_complaint_round(cases::v1::COMPLAINT_ROUND_FIRST);
  c->set_channel(cases::v1::CHANNEL_IN_PERSON);
  auto* p = c->add_petitioners();
  p->set_full_name("Trần Thị Mai");
  p->set_citizen_id("049302001122");
  c->mutable_respondent()->set_unit_code(respondent_unit);
  c->set_content(content);
  *c->mutable_received_date() = ToProtoDate(received);
  return r;
}

std::string HttpRequest(const std::string& url, const std::string* body) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return "";
  std::string reply;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK ? reply : std::string();
}

std::string ScrapeMetrics(int admin_port) {
  return HttpRequest(absl::StrCat("http://127.0.0.1:", admin_port, "/metrics"));
}

}  // namespace reception::testing
