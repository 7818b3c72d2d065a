// Starts a real receptiond (or reception-case) process on 127.0.0.1:0 in a
// temp dir, waits until it serves, and can stop, kill -9 and restart it
// keeping its data. For tests that need real processes.
#ifndef RECEPTION_TESTS_INTEGRATION_NODE_PROCESS_H_
#define RECEPTION_TESTS_INTEGRATION_NODE_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "reception/cases/v1/case_service.pb.h"
#include "services/common/test_support.h"

namespace reception::testing {

class NodeProcess {
 public:
  struct Options {
    std::string binary;  // path of receptiond
    std::string unit_code = "48";
    // Relative to the source tree, or an absolute path (a generated topology).
    std::string topology = "deploy/topology/da-nang-2025.yaml";
    std::string sync_policy = "group_fsync";
    std::string work_dir;  // holds config, data, logs; must exist
    std::vector<std::string> extra_args;
    int listen_port = 0;  // 0: any free port, chosen at each start
    // Federation peers: unit code -> address.
    std::vector<std::pair<std::string, std::string>> peers;
    // More configuration lines (YAML), appended.
    std::string extra_config;
    // The working calendar; empty: the shipped one.
    std::string calendar_file;
    // How the node is reached. kMtls (the default, so every multi-node test
    // exercises it): TLS with node certificates from the test PKI, people by
    // bearer tokens from the test identity provider (AddPrincipal adds one).
    // kPlaintext: development metadata from loopback, for tests that say so.
    enum class Transport { kMtls, kPlaintext };
    Transport transport = Transport::kMtls;
    // A development PKI (tools/pki/dev_pki.sh) to serve mTLS from:
    // <tls_dir>/ca.crt and <tls_dir>/<unit>/node.{crt,key}, re-read every
    // second. Empty: the test PKI shared by this test program (TestPkiDir()).
    std::string tls_dir;
  };

  // A loopback port free right now, for nodes whose peers must know their
  // address before they start and keep it across restarts. Chosen at random
  // BELOW the kernel's ephemeral range (ip_local_port_range): a port the
  // kernel hands out for port 0 can be taken by any process's outgoing
  // connection before the node binds it (a CI run failed that way).
  static int FreePort();

  explicit NodeProcess(Options options);
  ~NodeProcess();  // kills the process if still running

  // A channel presenting `unit`'s certificate from the PKI (mTLS nodes), as
  // another node would.
  std::shared_ptr<grpc::Channel> NewChannelAs(const std::string& unit) const;
  // Starts and waits until the gRPC health check answers SERVING.
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  // SIGTERM, then waits for exit; returns the exit status.
  int Stop(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL, no chance to flush anything.
  void Kill();
  // Waits for the process to exit by itself; its exit status, or -1.
  int WaitExit(absl::Duration timeout);
  // Arguments added to the next Start (test seams such as --test_fault).
  void set_extra_args(std::vector<std::string> args) { options_.extra_args = std::move(args); }
  const std::vector<std::string>& extra_args() const { return options_.extra_args; }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  pid_t pid() const { return pid_; }
  std::string log_path() const;
  std::string config_path() const;
  std::shared_ptr<grpc::Channel> NewChannel() const;
  // receptionctl's options to reach this node as `role` of `unit`:
  // " --server ADDR --ca CA --token TOKEN " (mTLS) or
  // " --server ADDR --unit UNIT --role ROLE " (plaintext).
  std::string CliFlags(const std::string& role, const std::string& unit) const;

 private:
  Options options_;
  pid_t pid_ = -1;
  int port_ = 0;
  int admin_port_ = 0;
  int starts_ = 0;
};

// A valid CreateCaseRequest with one petitioner, for tests and benches.
cases::v1::CreateCaseRequest SampleCase(cases::v1::CaseKind kind, const std::string& request_id,
                                        const std::string& respondent_unit, absl::CivilDay received,
                                        const std::string& content);

// The Prometheus exposition at http://127.0.0.1:ADMIN_PORT/metrics (libcurl);
// empty when it cannot be read.
std::string ScrapeMetrics(int admin_port);

// The test program's PKI (a CA made once per process with dev_pki.sh, node
// certificates issued on first use) and the JWKS of its token issuer.
std::string TestPkiDir();
// Issues `unit` a node certificate in the test PKI (once).
void EnsureNodeCertificate(const std::string& unit);
// A bearer token from the test identity provider (issuer
// https://id.test.reception, audience "reception").
std::string TestToken(const std::string& role, const std::string& unit, const std::string& subject);

// Adds the principal to a call: the development metadata (plaintext nodes)
// and, for people, a bearer token from the test identity provider (mTLS
// nodes). Role "node" gets no token: a node is its certificate.
void AddPrincipal(grpc::ClientContext* ctx, const std::string& role, const std::string& unit,
                  const std::string& subject = "tester");

// A unary call as someone (15 s deadline); the gRPC status as absl::Status,
// with the google.rpc.Status of grpc-status-details-bin as its payload
// kDetailsPayload.
inline constexpr char kDetailsPayload[] = "type.googleapis.com/google.rpc.Status";
template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> CallAs(Stub* stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& req, const std::string& role, const std::string& unit,
                            const std::string& subject) {
  grpc::ClientContext ctx;
  AddPrincipal(&ctx, role, unit, subject);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  Resp out;
  grpc::Status s = (stub->*method)(&ctx, req, &out);
  if (!s.ok()) {
    absl::Status error(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    if (!s.error_details().empty())
      error.SetPayload(kDetailsPayload, absl::Cord(s.error_details()));
    return error;
  }
  return out;
}

// An HTTP request with libcurl (POST `body` when given, else GET); the
// response body, or "" when the request failed.
std::string HttpRequest(const std::string& url, const std::string* body = nullptr);

}  // namespace reception::testing

#endif  // RECEPTION_TESTS_INTEGRATION_NODE_PROCESS_H_
