#include "services/common/node_runtime.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpc/support/log.h"
#include "prometheus/gauge.h"
#include "services/common/backup_service.h"
#include "services/common/civil_date.h"
#include "services/common/file_clock.h"
#include "services/common/jwt.h"
#include "services/common/logging.h"
#include "services/common/node_config.h"
#include "services/common/outbox_service.h"
#include "services/common/process_metrics.h"
#include "services/common/server_host.h"
#include "services/common/status.h"
#include "services/common/unit_service.h"

ABSL_FLAG(std::string, config, "", "Path of the node configuration file (YAML)");
ABSL_FLAG(std::string, listen, "", "gRPC listen address; overrides listen_address");
ABSL_FLAG(std::string, admin_listen, "", "Metrics listen address; overrides admin_address");
ABSL_FLAG(std::string, data_dir, "", "Data directory; overrides data_dir");
ABSL_FLAG(std::string, ready_file, "",
          "Once serving, write 'grpc_port=N' and 'admin_port=N' lines to this file "
          "(for supervisors and tests that bind port 0)");
ABSL_FLAG(std::string, test_fault, "",
          "TESTS ONLY: crash at a named point to test recovery (crash_after_import: exit "
          "right after a handoff import is durable, before acknowledging it)");
ABSL_FLAG(std::string, clock_file, "",
          "TESTS ONLY: read today's date (YYYY-MM-DD) from this file instead of the "
          "system clock, re-read on every call");

namespace reception {
namespace {

absl::Status WriteReadyFile(const std::string& path, int port, int admin_port, int health_port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "grpc_port=" << port << "\nadmin_port=" << admin_port << "\npid=" << getpid() << "\n";
    if (health_port != 0) out << "health_port=" << health_port << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// gRPC core's own log lines, through this logger as logfmt
// ("event=grpc_core file=... line=... message=..."), so they are told apart
// from ours and escaped like them.
void GrpcCoreLog(gpr_log_func_args* args) {
  const char* file = args->file != nullptr ? args->file : "";
  const char* slash = std::strrchr(file, '/');
  const std::string message = LogValue(args->message != nullptr ? args->message : "");
  const std::string where = LogValue(slash != nullptr ? slash + 1 : file);
  switch (args->severity) {
    case GPR_LOG_SEVERITY_ERROR:
      Log()->error("event=grpc_core file={} line={} message={}", where, args->line, message);
      break;
    case GPR_LOG_SEVERITY_INFO:
      Log()->info("event=grpc_core file={} line={} message={}", where, args->line, message);
      break;
    default:
      Log()->debug("event=grpc_core file={} line={} message={}", where, args->line, message);
      break;
  }
}

// Fewer than this many days published: the Government's notice for next
// year is due (it usually comes in the autumn) and dates are provisional.
constexpr int kCalendarWarningDays = 90;

void WarnIfCalendarRunsShort(const WorkingCalendar& calendar, absl::CivilDay today) {
  const auto published = calendar.PublishedUntil();
  const int left = published ? static_cast<int>(*published - today) : 0;
  if (left >= kCalendarWarningDays) return;
  const auto covered = calendar.CoveredUntil();
  Log()->warn(
      "event=calendar_publication_running_out published_until={} days_left={} covered_until={} "
      "note=\"dates past published_until use the statutory days off and are marked provisional; "
      "add the "
      "Government's calendar for the next year to the calendar file and restart\"",
      published ? FormatDate(*published) : "-", left, covered ? FormatDate(*covered) : "-");
  if (!covered || *covered < today + kCalendarWarningDays) {
    Log()->warn("event=calendar_not_covering until={} note=\"deadlines past it get no due date\"",
                covered ? FormatDate(*covered) : "-");
  }
}

}  // namespace

Store::Options NodeContext::StoreOptions(const std::string& name,
                                         std::vector<std::string> families) const {
  Store::Options o;
  o.path = (std::filesystem::path(config.data_dir()) / name).string();
  o.column_families = std::move(families);
  o.sync = config.storage().sync_policy() != config::v1::SYNC_POLICY_NONE;
  if (config.storage().max_group_size() > 0) o.max_group_size = config.storage().max_group_size();
  if (config.storage().block_cache_mib() > 0) {
    o.block_cache_bytes = static_cast<size_t>(config.storage().block_cache_mib()) << 20;
  }
  o.block_cache = block_cache;
  if (config.storage().write_buffer_mib() > 0) {
    o.write_buffer_bytes = static_cast<size_t>(config.storage().write_buffer_mib()) << 20;
  }
  o.write_buffer_manager = write_buffer_manager;
  o.metrics = metrics.get();
  o.name = name;
  return o;
}

namespace {

// Who reads the oversight page, or the refusal to send.
absl::StatusOr<Principal> PageReader(const NodeContext& context, const JwtVerifier* tokens,
                                     const AdminRequest& req) {
  Principal p;
  if (context.config.auth().mode() == config::v1::AUTH_MODE_MTLS) {
    if (tokens == nullptr) {
      return absl::UnauthenticatedError("this node accepts no bearer tokens (auth.jwt)");
    }
    if (req.bearer_token.empty()) {
      return absl::UnauthenticatedError("a bearer token is required");
    }
    TokenRefusal refusal;
    RECEPTION_ASSIGN_OR_RETURN(p, tokens->Verify(req.bearer_token, &refusal));
  } else {
    // Development: the identity named in the query, from this machine only.
    if (!req.loopback) {
      return absl::UnauthenticatedError("development identity is accepted from loopback only");
    }
    auto role = req.query.count("role") ? ParseRole(req.query.at("role")) : Role::kViewer;
    if (!role || *role == Role::kNode) return absl::UnauthenticatedError("unknown role");
    p.role = *role;
    p.unit_code = req.query.count("unit") ? req.query.at("unit") : "";
    p.subject = req.query.count("subject") ? req.query.at("subject") : "page";
  }
  const std::string& unit = context.config.unit_code();
  if (p.role == Role::kNode || p.unit_code.empty() ||
      !context.topology.IsWithin(unit, p.unit_code)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the oversight page of unit ", unit, " is for people of that unit or of a unit above it"));
  }
  return p;
}

AdminReply OversightPage(const NodeContext& context,
                         const std::vector<std::unique_ptr<ServiceModule>>& modules,
                         const JwtVerifier* tokens, const AdminRequest& req) {
  AdminReply reply;
  auto reader = PageReader(context, tokens, req);
  if (!reader.ok()) {
    reply.status = reader.status().code() == absl::StatusCode::kPermissionDenied ? 403 : 401;
    reply.content_type = "text/plain; charset=utf-8";
    reply.body = std::string(reader.status().message()) + "\n";
    return reply;
  }
  const auto* self = context.topology.Find(context.config.unit_code());
  const std::string title =
      absl::StrCat("Giám sát tiếp công dân: ", self ? self->name() : context.config.unit_code());
  std::string body = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>", HtmlEscape(title),
      "</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;"
      "margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:right}"
      "td:first-child,th:first-child,td.name,th:nth-child(2){text-align:left}.bad{color:#b00;font-"
      "weight:bold}"
      ".warn{color:#a60}</style></head><body>\n<h1>",
      HtmlEscape(title), "</h1>\n<p id=\"meta\">Node of unit <span id=\"node-unit\">",
      HtmlEscape(context.config.unit_code()), "</span>; today ", FormatDate(context.clock->Today()),
      "; read by ", HtmlEscape(RoleName(reader->role)), " of unit ", HtmlEscape(reader->unit_code),
      ". Read-only.</p>\n");
  for (const auto& m : modules) absl::StrAppend(&body, m->OversightSection(*reader, req.query));
  absl::StrAppend(&body, "</body></html>\n");
  reply.body = std::move(body);
  return reply;
}

}  // namespace

int RunNode(int argc, char** argv, absl::string_view program,
            const std::vector<ModuleFactory>& factories) {
  // Block the stop signals before gRPC starts threads, so only sigwait below
  // receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::SetProgramUsageMessage(
      absl::StrCat(program, ": a reception node.\nUsage: ", program,
                   " --config FILE [--listen ADDR] "
                   "[--admin_listen ADDR] [--data_dir DIR] [--ready_file FILE]"));
  absl::ParseCommandLine(argc, argv);
  // Abseil's deadlock-cycle bookkeeping costs every Mutex operation; the
  // lock order is simple and covered by tests, so skip it in production.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto fail = [&](const absl::Status& s) {
    Log()->critical("event=startup_failed program={} error={}", program, LogValue(s.message()));
    return 1;
  };
  if (absl::GetFlag(FLAGS_config).empty()) {
    return fail(absl::InvalidArgumentError("--config must name the node configuration file"));
  }
  gpr_set_log_function(GrpcCoreLog);
  ConfigOverrides overrides{absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_admin_listen),
                            absl::GetFlag(FLAGS_data_dir)};
  auto config = LoadNodeConfig(absl::GetFlag(FLAGS_config), overrides);
  if (!config.ok()) return fail(config.status());
  if (auto s = SetLogLevel(config->logging().level()); !s.ok()) return fail(s);
  auto topology = Topology::LoadFile(config->topology_file());
  if (!topology.ok()) return fail(topology.status());
  if (topology->Find(config->unit_code()) == nullptr) {
    return fail(absl::InvalidArgumentError(absl::StrCat(absl::GetFlag(FLAGS_config), ": unit_code ",
                                                        config->unit_code(), " is not a unit of ",
                                                        config->topology_file())));
  }
  auto rules = RuleBook::LoadFile(config->rules_file());
  if (!rules.ok()) return fail(rules.status());
  auto calendar = WorkingCalendar::LoadFile(config->calendar_file());
  if (!calendar.ok()) return fail(calendar.status());
  std::error_code ec;
  std::filesystem::create_directories(config->data_dir(), ec);
  if (ec) {
    return fail(absl::UnavailableError(
        absl::StrCat("cannot create data_dir ", config->data_dir(), ": ", ec.message())));
  }

  SystemClock system_clock;
  std::unique_ptr<FileClock> file_clock;
  const Clock* clock = &system_clock;
  if (!absl::GetFlag(FLAGS_clock_file).empty()) {
    auto c = FileClock::Open(absl::GetFlag(FLAGS_clock_file));
    if (!c.ok()) return fail(c.status());
    file_clock = *std::move(c);
    clock = file_clock.get();
    Log()->warn("event=test_clock file={} today={} note=\"dates come from a file: tests only\"",
                absl::GetFlag(FLAGS_clock_file), absl::FormatCivilTime(clock->Today()));
  }
  WarnIfCalendarRunsShort(*calendar, clock->Today());
  std::string in_process_secret(32, '\0');
  {
    std::ifstream random("/dev/urandom", std::ios::binary);
    random.read(in_process_secret.data(), static_cast<std::streamsize>(in_process_secret.size()));
    if (!random) return fail(absl::UnavailableError("cannot read /dev/urandom"));
    in_process_secret = absl::BytesToHexString(in_process_secret);
  }
  auto credentials = Credentials::FromConfig(config->auth());
  std::unique_ptr<Authenticator> authenticator_holder;
  if (config->auth().mode() == config::v1::AUTH_MODE_MTLS) {
    std::unique_ptr<JwtVerifier> tokens;
    if (!config->auth().jwt().jwks_file().empty()) {
      auto v = JwtVerifier::Create(config->auth().jwt());
      if (!v.ok()) return fail(v.status());
      tokens = *std::move(v);
      Log()->info("event=auth_tokens jwks={} keys={} issuer={} audience={}",
                  LogValue(config->auth().jwt().jwks_file()), tokens->key_count(),
                  LogValue(config->auth().jwt().issuer()),
                  LogValue(config->auth().jwt().audience()));
    }
    authenticator_holder = std::make_unique<MtlsAuthenticator>(
        config->auth().tls().trust_domain(), in_process_secret,
        config->auth().loopback_people_metadata(), std::move(tokens));
    Log()->info(
        "event=auth mode=mtls trust_domain={} cert={} refresh_seconds={} "
        "loopback_people_metadata={}",
        LogValue(config->auth().tls().trust_domain()), LogValue(config->auth().tls().cert_file()),
        config->auth().tls().refresh_seconds(), config->auth().loopback_people_metadata());
  } else {
    authenticator_holder = std::make_unique<DevMetadataAuthenticator>(in_process_secret);
  }
  const Authenticator& authenticator = *authenticator_holder;
  NodeContext context{*std::move(config),
                      *std::move(topology),
                      *std::move(rules),
                      *std::move(calendar),
                      clock,
                      std::make_shared<prometheus::Registry>(),
                      &authenticator};
  context.credentials = credentials;
  authenticator_holder->CountFailures(context.metrics.get());
  // Every call of every service is authorised by the access table.
  authenticator_holder->EnforceAccessTable(&context.topology, context.config.unit_code());
  context.in_process_secret = in_process_secret;
  context.block_cache =
      rocksdb::NewLRUCache(static_cast<size_t>(context.config.storage().block_cache_mib() > 0
                                                   ? context.config.storage().block_cache_mib()
                                                   : 64)
                           << 20);
  context.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
      static_cast<size_t>(context.config.storage().write_buffer_mib()) << 20);
  context.test_fault = absl::GetFlag(FLAGS_test_fault);
  if (!context.test_fault.empty()) {
    if (context.test_fault != "crash_after_import") {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "--test_fault must be crash_after_import (got \"", context.test_fault, "\")")));
    }
    Log()->warn("event=test_fault fault={}", context.test_fault);
  }
  auto host_holder = std::make_shared<std::atomic<ServerHost*>>(nullptr);
  context.local_channel = [host_holder]() -> std::shared_ptr<grpc::Channel> {
    ServerHost* h = host_holder->load();
    return h ? h->InProcessChannel() : nullptr;
  };

  std::vector<std::unique_ptr<ServiceModule>> modules;
  for (const auto& factory : factories) {
    auto m = factory(context);
    if (!m.ok()) return fail(m.status());
    modules.push_back(*std::move(m));
  }
  auto& ready_gauge = prometheus::BuildGauge()
                          .Name("reception_node_ready")
                          .Help("1 when every service of the node can serve")
                          .Register(*context.metrics)
                          .Add({{"unit", context.config.unit_code()}});

  ServerHost host({context.config.listen_address(), context.config.admin_address(),
                   credentials->server(), context.config.health_address()},
                  context.metrics);
  // Operators' view of what this process owes other nodes (every binary).
  OutboxGrpcService outbox_service(&authenticator);
  host.AddService(&outbox_service, "reception.admin.v1.OutboxService");
  BackupGrpcService backup_service(&authenticator, &context.config);
  host.AddService(&backup_service, "reception.admin.v1.BackupService");
  // The administrative units, for integrators (every binary).
  std::set<std::string> federated = {context.config.unit_code()};
  for (const auto& peer : context.config.federation().peers()) federated.insert(peer.unit_code());
  UnitDirectory unit_directory(&context.topology, context.clock, std::move(federated));
  UnitGrpcService unit_service(&authenticator, &unit_directory);
  host.AddService(&unit_service, "reception.units.v1.UnitService");
  // What every server shows: the build, the process, the stores' sizes.
  host.AddCollectable(ProcessMetrics());
  host.AddCollectable(Store::AllMetrics());
  for (auto& m : modules) {
    host.AddService(m->service(), m->service_name());
    for (auto& [service, name] : m->extra_services()) host.AddService(service, name);
    for (auto& c : m->collectables()) host.AddCollectable(c);
  }
  // The oversight page: read-only, for people of this unit or one above it,
  // behind the same authentication as the gRPC port (a bearer token in mTLS
  // mode; development identity from loopback otherwise).
  std::unique_ptr<JwtVerifier> page_tokens;
  if (context.config.auth().mode() == config::v1::AUTH_MODE_MTLS &&
      !context.config.auth().jwt().jwks_file().empty()) {
    auto v = JwtVerifier::Create(context.config.auth().jwt());
    if (!v.ok()) return fail(v.status());
    page_tokens = *std::move(v);
  }
  host.AddPage("/oversight", [&context, &modules, &page_tokens](const AdminRequest& req) {
    return OversightPage(context, modules, page_tokens.get(), req);
  });
  if (auto s = host.Start(); !s.ok()) return fail(s);
  host_holder->store(&host);

  auto all_ready = [&] {
    for (auto& m : modules) {
      if (!m->ready()) return false;
    }
    return true;
  };
  // How far the working calendar is published, and how far it is covered
  // provisionally (Unix time of the end of that day in Vietnam), for the
  // alert that asks for next year's calendar in time.
  auto end_of = [](std::optional<absl::CivilDay> day) {
    return day ? static_cast<double>(absl::ToUnixSeconds(
                     absl::FromCivil(absl::CivilSecond(*day + 1), VietnamTimeZone())))
               : 0.0;
  };
  prometheus::BuildGauge()
      .Name("reception_calendar_published_until")
      .Help(
          "Unix time of the end of the last day of the last year the Government has published in "
          "the working "
          "calendar")
      .Register(*context.metrics)
      .Add({})
      .Set(end_of(context.calendar.PublishedUntil()));
  prometheus::BuildGauge()
      .Name("reception_calendar_provisional_until")
      .Help(
          "Unix time of the end of the last day the working calendar covers, provisional years "
          "(statutory days "
          "off) included")
      .Register(*context.metrics)
      .Add({})
      .Set(end_of(context.calendar.CoveredUntil()));

  bool serving = all_ready();
  host.SetServing(serving);
  ready_gauge.Set(serving ? 1 : 0);
  Log()->info(
      "event=serving program={} unit={} grpc_port={} admin_port={} health_port={} data_dir={}",
      program, context.config.unit_code(), host.port(), host.admin_port(), host.health_port(),
      context.config.data_dir());
  if (!absl::GetFlag(FLAGS_ready_file).empty()) {
    if (auto s = WriteReadyFile(absl::GetFlag(FLAGS_ready_file), host.port(), host.admin_port(),
                                host.health_port());
        !s.ok()) {
      return fail(s);
    }
  }

  // Readiness follows the modules (a store that failed an fsync stops
  // serving) until a stop signal arrives.
  absl::Mutex mu;
  bool stopping = false;
  std::thread watcher([&] {
    absl::MutexLock lock(&mu);
    absl::CivilDay warned_on = clock->Today();
    while (!mu.AwaitWithTimeout(absl::Condition(&stopping), absl::Milliseconds(500))) {
      if (const absl::CivilDay today = clock->Today(); today != warned_on) {
        warned_on = today;  // the warning stays, once a day, until the year is published
        WarnIfCalendarRunsShort(context.calendar, today);
      }
      const bool now = all_ready();
      if (now != serving) {
        serving = now;
        host.SetServing(now);
        ready_gauge.Set(now ? 1 : 0);
        Log()->warn("event=readiness_changed serving={}", now);
      }
    }
  });

  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log()->info("event=stopping signal={} grace_seconds={}", sig,
              context.config.shutdown_grace_seconds());
  {
    absl::MutexLock lock(&mu);
    stopping = true;
  }
  watcher.join();
  host.Shutdown(absl::Seconds(context.config.shutdown_grace_seconds()));
  host_holder->store(nullptr);
  modules.clear();  // closes the stores after the last call finished
  Log()->info("event=stopped program={}", program);
  return 0;
}

}  // namespace reception
