// receptionctl: the command line for reception officers and inspectors.
// Talks to a node over gRPC with the generated stubs; a readable table by
// default, --json for scripts. Errors print the server's message and exit 1;
// usage errors exit 2.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "reception/admin/v1/outbox_service.grpc.pb.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/media/v1/media_service.grpc.pb.h"
#include "reception/routing/v1/routing_service.grpc.pb.h"
#include "reception/scheduling/v1/scheduling_service.grpc.pb.h"
#include "services/calendar/working_calendar.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/credentials.h"
#include "services/common/jwt.h"
#include "yaml-cpp/yaml.h"

namespace {

namespace v1 = reception::cases::v1;
using google::protobuf::Message;

constexpr char kUsage[] = R"(receptionctl: manage citizen reception cases on a node.

Usage: receptionctl [global options] COMMAND [NAME] [options]

Global options (or environment variables):
  --server ADDR     node address          (RECEPTION_SERVER, default 127.0.0.1:50051)
  --ca FILE         CA bundle: talk TLS to a node in mTLS mode (RECEPTION_CA)
  --cert FILE --key FILE   present this client certificate (RECEPTION_CERT, RECEPTION_KEY)
  --token JWT       bearer token from the identity provider (RECEPTION_TOKEN);
  --token-file FILE or read it from a file (RECEPTION_TOKEN_FILE). The token
                    names you, your role and unit; --subject/--role/--unit
                    are then not sent.
  --subject S       your account, development mode (RECEPTION_SUBJECT, default "cli")
  --role R          officer|inspector|head|viewer (RECEPTION_ROLE, default officer)
  --unit CODE       your unit code (RECEPTION_UNIT; required without a token)
  --json            print JSON instead of tables
  --timeout SEC     deadline per call (default 10)

Commands:
  token issue --key PEM --kid ID --issuer ISS --audience AUD --subject S --role R --unit CODE [--ttl-minutes N]
            DEVELOPMENT identity provider: print a token signed with a
            private key (EC P-256 -> ES256, RSA -> RS256); offline
  token jwks --key PEM --kid ID
            print the JWKS (public key set) a node's auth.jwt.jwks_file
            holds for that key; offline
  calendar derive --calendar-file FILE --year YYYY
            print the year's statutory days off (a provisional `years:` entry
            for the calendar file); offline, no node needed
  calendar check --calendar-file FILE
            how far the file is published, and what is provisional
  create    --kind complaint|denunciation|petition|feedback --channel CHANNEL
            --content TEXT --received YYYY-MM-DD
            [--petitioner "Full name|citizen id|address|phone"]...
            [--round first|second] [--previous cases/N] [--repeats cases/N]
            [--anonymous] [--forwarded-by BODY] [--representative CITIZEN_ID]...
            [--people N] [--respondent-unit CODE] [--respondent-official NAME]
            [--respondent-position TEXT] [--head-of-unit] [--act-reference REF] [--act-date DATE]
            [--filing-start DATE] [--filing-delay "obstacle|FROM|TO|evidence[|note]"]...
            (complaints: the day the decision was received or the act learned of,
            and legitimate delays: illness natural_disaster hostilities away other)
            [--attachment "name|media/type|size|sha256"]... [--reception-unit CODE]
            [--previously-handled-by BODY] [--request-id ID]
            CHANNEL: in_person mail mailbox forwarded_deputy
            forwarded_fatherland_front forwarded_press forwarded_leader
            online_session portal
  get       NAME
  list      [--state S] [--kind K] [--unit-code U] [--from DATE] [--to DATE]
            [--query TEXT] [--due-before DATE] [--overdue] [--at-risk WORKING_DAYS]
            [--order-by due_date] [--page-size N] [--page-token T] [--all]
  overdue   [--kind K]       every case past a statutory due date, earliest first
  extend    NAME --step handle_letter|accept|transfer|settle --decision REF --days N
                             (head or inspector; a written extension decision)
  deadlines preview --kind K --received DATE [--accepted DATE] [--round first|second]
            [--complexity normal|complex|very_complex] [--unit-code U]
  classify  NAME --competent yes|no [--complexity normal|complex|very_complex]
            [--filing-start DATE] [--filing-delay "obstacle|FROM|TO|evidence[|note]"]...
            [--kind K] [--note TEXT]
  accept    NAME --notice REF
  refuse    NAME --ground incapacitated|disruptive|already_settled|out_of_time|no_standing
            --explanation TEXT [--notice REF]
  guide     NAME --body COMPETENT_BODY [--note TEXT]
  archive   NAME --reason duplicate|anonymous|unsigned|impersonated|already_guided|other
            [--duplicate-of cases/N] [--note TEXT]
  start-verification NAME [--verifier NAME]
  suspend   NAME --reason TEXT --evidence REF [--date FIRST_PAUSED_DAY]
  resume    NAME [--date LAST_PAUSED_DAY]   (inclusive: counting starts again the
            day after; default today; suspend and resume on one day = one day)
  decide    NAME --outcome complaint_right|complaint_wrong|complaint_partly_right|
            denunciation_founded|denunciation_unfounded|denunciation_partly_founded|answered
            --decision REF [--summary TEXT]
  publish   NAME --method meeting|posting|media --reference REF [--date DATE]
            (a complaint's settlement decision made public)
  close     NAME
  withdraw  NAME --document REF [--partial --part TEXT] [--reason TEXT]
  history   NAME
  verify    NAME
  reveal    NAME --reason TEXT          (inspectors of the owning unit)
  export    --from DATE --to DATE [--output FILE]
  route     NAME [--apply] [--request-id ID]   which unit is competent, by which rule;
                            --apply carries out a transfer decision
  transfer  NAME --to UNIT --reason TEXT [--request-id ID]   hand the case to UNIT's node
  return    NAME --reason TEXT [--request-id ID]   send a transferred case back (not competent);
            a second return of the same matter goes to the common parent to decide
  dispute   NAME --competent UNIT --reason TEXT [--request-id ID]   maintain that UNIT is
            competent: the case goes to the two units' lowest common parent
  resolve   NAME --competent UNIT --reason TEXT --basis LAW [--request-id ID]   (head of
            the deciding unit) decide the dispute; the case goes to UNIT
  list --awaiting-decision   cases waiting for this unit's decision on a dispute
  handoffs  [--state pending|delivered] [--peer UNIT]
  handoff   ID
  federation                every peer: reachable, last contact, outbox, last error
  federation outbox [--outbox handoffs|scheduling] [--peer UNIT] [--dead]
                            what this node owes its peers; dead letters were refused for good
  federation retry ITEM     a dead letter back in line (head of the node's unit)
  federation cancel ITEM    give an item up (a handoff cannot be: its case would have no owner)
  room create ID [--session S] [--agenda CASE]... [--bridge UNIT[=sip:user@host]]...
  room get NAME | open NAME | close NAME | events NAME [--after N]
  room watch NAME [--after N]               follow the room's events until it closes
  room bridge NAME --host UNIT              (at a bridge point's node) take part in UNIT's room
  room minutes NAME --as P --conclusions TEXT [--place TEXT] [--case CASE]... [--statement P=TEXT]...
  room token NAME --participant-role R --site UNIT --for SUBJECT [--ttl SEC]   a join token
  room join NAME --join-token T             (as --subject; prints your participant id)
  room admit|lobby|grant|mute|unmute|remove NAME --as P --target Q   (moderators)
  room revoke|record|stop-record NAME --as P                        (moderators)
  room hand|lower|release|consent|withdraw|sign|leave|heartbeat NAME --as P
  schedule plan [--opens HH:MM --closes HH:MM] [--day-of-month N]... [--weekday monday]...   show or set the plan
  schedule days --from D --to D           planned regular and periodic days (moved off days off)
  schedule compliance --month YYYY-MM | --quarter YYYY-QN   periodic reception held vs required
  schedule ical --from D --to D           the unit's calendar as iCalendar (RFC 5545)
  session create --kind regular|periodic|unscheduled|online --date D --start HH:MM --end HH:MM
                 --presiding WHO [--title T] [--reason R] [--bridge UNIT=CAPACITY]... [--cutoff D] [--request-id ID]
  session get|agenda NAME | list --from D --to D
  session reschedule NAME --date D --start HH:MM --end HH:MM [--cutoff D] | cancel NAME --reason R
  session record NAME --presided-by WHO --presiding-role head|deputy|staff --citizens N [--case C]...
  register SESSION --name NAME --citizen-id ID [--bridge UNIT] (--case C | --summary TEXT) --request-id ID
  register cancel|checkin REGISTRATION [--citizen-id ID]
  notifications                           notices for registered citizens (cancelled, moved, moved up)
Transitions take [--etag E] (fail if the case changed) and [--date YYYY-MM-DD].
NAME is "cases/NUMBER" or just NUMBER.
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;
  std::set<std::string> flags;

  std::optional<std::string> Get(const std::string& k) const {
    auto it = options.find(k);
    if (it == options.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
  }
  std::string GetOr(const std::string& k, const std::string& d) const { return Get(k).value_or(d); }
  std::vector<std::string> All(const std::string& k) const {
    auto it = options.find(k);
    return it == options.end() ? std::vector<std::string>{} : it->second;
  }
  bool Has(const std::string& k) const { return flags.count(k) > 0; }
};

// Every option any command reads; anything else is refused before a
// command runs (a misspelt --etag must not silently skip the check).
// tests/lint/receptionctl_options.sh keeps these lists and the code in step.
const std::set<std::string> kBooleanFlags = {
    "all",          "anonymous", "apply", "awaiting-decision", "dead",
    "head-of-unit", "help",      "json",  "overdue",           "partial"};
const std::set<std::string> kValueOptions = {"accepted",
                                             "act-date",
                                             "act-reference",
                                             "after",
                                             "agenda",
                                             "as",
                                             "at-risk",
                                             "attachment",
                                             "audience",
                                             "basis",
                                             "body",
                                             "bridge",
                                             "ca",
                                             "calendar-file",
                                             "case",
                                             "cert",
                                             "channel",
                                             "citizen-id",
                                             "citizens",
                                             "closes",
                                             "competent",
                                             "complexity",
                                             "conclusions",
                                             "content",
                                             "cutoff",
                                             "date",
                                             "day-of-month",
                                             "days",
                                             "decision",
                                             "document",
                                             "due-before",
                                             "duplicate-of",
                                             "end",
                                             "etag",
                                             "evidence",
                                             "explanation",
                                             "filing-delay",
                                             "filing-start",
                                             "for",
                                             "for-unit",
                                             "forwarded-by",
                                             "from",
                                             "ground",
                                             "host",
                                             "issuer",
                                             "join-token",
                                             "key",
                                             "kid",
                                             "kind",
                                             "method",
                                             "month",
                                             "name",
                                             "note",
                                             "notice",
                                             "opens",
                                             "order-by",
                                             "outbox",
                                             "outcome",
                                             "output",
                                             "page-size",
                                             "page-token",
                                             "part",
                                             "participant-role",
                                             "peer",
                                             "people",
                                             "petitioner",
                                             "place",
                                             "presided-by",
                                             "presiding",
                                             "presiding-role",
                                             "previous",
                                             "previously-handled-by",
                                             "quarter",
                                             "query",
                                             "reason",
                                             "received",
                                             "reception-unit",
                                             "reference",
                                             "repeats",
                                             "representative",
                                             "request-id",
                                             "respondent-official",
                                             "respondent-position",
                                             "respondent-unit",
                                             "role",
                                             "round",
                                             "server",
                                             "session",
                                             "site",
                                             "start",
                                             "state",
                                             "statement",
                                             "step",
                                             "subject",
                                             "summary",
                                             "target",
                                             "timeout",
                                             "title",
                                             "to",
                                             "token",
                                             "token-file",
                                             "ttl",
                                             "ttl-minutes",
                                             "unit",
                                             "unit-code",
                                             "verifier",
                                             "weekday",
                                             "year"};

// Levenshtein distance between two option names (ASCII), for suggestions.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string Closest(const std::string& key) {
  std::string best;
  size_t best_distance = 4;  // suggest only what is close
  for (const auto* set : {&kBooleanFlags, &kValueOptions}) {
    for (const auto& known : *set) {
      const size_t d = Distance(key, known);
      if (d < best_distance) {
        best_distance = d;
        best = known;
      }
    }
  }
  return best;
}

[[noreturn]] void UsageError(const std::string& what) {
  std::cerr << "receptionctl: " << what << "\nRun 'receptionctl --help' for usage.\n";
  std::exit(2);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string key = s.substr(2);
      std::string value;
      bool has_value = false;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key = key.substr(0, eq);
        has_value = true;
      }
      if (kBooleanFlags.count(key)) {
        if (has_value) UsageError(absl::StrCat("--", key, " takes no value"));
        a.flags.insert(key);
        continue;
      }
      if (!kValueOptions.count(key)) {
        const std::string closest = Closest(key);
        UsageError(
            absl::StrCat("unknown option --", key,
                         closest.empty() ? "" : absl::StrCat(" (did you mean --", closest, "?)")));
      }
      if (!has_value) {
        if (i + 1 >= argc) UsageError(absl::StrCat("--", key, " needs a value"));
        value = argv[++i];
      }
      a.options[key].push_back(value);
    } else if (a.command.empty()) {
      a.command = s;
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string Env(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v && *v ? v : fallback;
}

template <typename E>
E ParseEnum(const std::string& value, const std::string& prefix, bool (*parse)(const std::string&, E*),
            const std::string& option) {
  E e;
  if (parse(absl::StrCat(prefix, absl::AsciiStrToUpper(value)), &e) || parse(value, &e)) return e;
  UsageError(absl::StrCat("--", option, " \"", value, "\" is not a known value"));
}

reception::type::v1::Date ParseDateOption(const std::string& value, const std::string& option) {
  auto d = reception::ParseDate(value);
  if (!d.ok()) UsageError(absl::StrCat("--", option, ": ", d.status().message()));
  return reception::ToProtoDate(*d);
}

std::string CaseName(const Args& a) {
  if (a.positional.empty()) UsageError(absl::StrCat(a.command, " needs a case NAME"));
  const std::string& n = a.positional[0];
  return n.rfind("cases/", 0) == 0 ? n : absl::StrCat("cases/", n);
}

std::string Short(const std::string& enum_name, const std::string& prefix) {
  return absl::AsciiStrToLower(enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size()) : enum_name);
}

std::string Date(const reception::type::v1::Date& d) {
  return reception::IsUnset(d) ? "" : reception::FormatDate(d);
}

class Client {
 public:
  explicit Client(const Args& a) : args_(a) {
    server_ = a.GetOr("server", Env("RECEPTION_SERVER", "127.0.0.1:50051"));
    subject_ = a.GetOr("subject", Env("RECEPTION_SUBJECT", "cli"));
    role_ = a.GetOr("role", Env("RECEPTION_ROLE", "officer"));
    unit_ = a.GetOr("unit", Env("RECEPTION_UNIT", ""));
    token_ = a.GetOr("token", Env("RECEPTION_TOKEN", ""));
    if (const std::string file = a.GetOr("token-file", Env("RECEPTION_TOKEN_FILE", ""));
        token_.empty() && !file.empty()) {
      std::ifstream in(file);
      if (!in || !std::getline(in, token_))
        UsageError(absl::StrCat("cannot read a token from ", file));
    }
    if (unit_.empty() && token_.empty()) {
      UsageError("--unit (or RECEPTION_UNIT) must name your unit code, or --token carry it");
    }
    int seconds = 10;
    if (auto t = a.Get("timeout"); t && !absl::SimpleAtoi(*t, &seconds)) UsageError("--timeout must be a number");
    timeout_ = seconds;
    // TLS when a CA bundle is given (a node in mTLS mode); a client
    // certificate too when given (a node's own tools).
    std::shared_ptr<const reception::Credentials> credentials =
        reception::Credentials::FromConfig(reception::config::v1::AuthConfig());
    if (const std::string ca = a.GetOr("ca", Env("RECEPTION_CA", "")); !ca.empty()) {
      auto tls = reception::Credentials::ForClient(ca, a.GetOr("cert", Env("RECEPTION_CERT", "")),
                                                   a.GetOr("key", Env("RECEPTION_KEY", "")));
      if (!tls.ok()) UsageError(std::string(tls.status().message()));
      credentials = *tls;
    }
    auto channel = credentials->NewChannel(server_);
    stub_ = v1::CaseService::NewStub(channel);
    handoff_stub_ = v1::HandoffService::NewStub(channel);
    routing_stub_ = reception::routing::v1::RoutingService::NewStub(channel);
    media_stub_ = reception::media::v1::MediaService::NewStub(channel);
    scheduling_stub_ = reception::scheduling::v1::SchedulingService::NewStub(channel);
    outbox_stub_ = reception::admin::v1::OutboxService::NewStub(channel);
  }

  void Identify(grpc::ClientContext* ctx) const {
    if (!token_.empty()) {
      ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
      return;
    }
    ctx->AddMetadata("x-reception-subject", subject_);
    ctx->AddMetadata("x-reception-role", role_);
    ctx->AddMetadata("x-reception-unit", unit_);
  }

  void Prepare(grpc::ClientContext* ctx) const {
    Identify(ctx);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_));
  }

  // Follows a WatchRoom stream (no deadline) until it ends; the exit code.
  int Watch(const reception::media::v1::WatchRoomRequest& req,
            const std::function<void(const reception::media::v1::RoomEvent&)>& each) {
    grpc::ClientContext ctx;
    Identify(&ctx);
    auto reader = media_stub_->WatchRoom(&ctx, req);
    reception::media::v1::RoomEvent e;
    while (reader->Read(&e)) each(e);
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      std::cerr << "error: " << s.error_message() << "\n";
      return 1;
    }
    return 0;
  }

  template <typename Stub, typename Req, typename Resp>
  Resp Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req) {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    Resp resp;
    Stub* stub;
    if constexpr (std::is_same_v<Stub, v1::HandoffService::Stub>) {
      stub = handoff_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::routing::v1::RoutingService::Stub>) {
      stub = routing_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::media::v1::MediaService::Stub>) {
      stub = media_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::scheduling::v1::SchedulingService::Stub>) {
      stub = scheduling_stub_.get();
    } else if constexpr (std::is_same_v<Stub, reception::admin::v1::OutboxService::Stub>) {
      stub = outbox_stub_.get();
    } else {
      stub = stub_.get();
    }
    grpc::Status s = (stub->*method)(&ctx, req, &resp);
    if (!s.ok()) {
      static const char* kCodes[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                     "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                     "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                     "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                     "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                     "UNAUTHENTICATED"};
      const int c = s.error_code();
      std::cerr << "error: " << (c >= 0 && c <= 16 ? kCodes[c] : "UNKNOWN") << ": "
                << s.error_message() << "\n";
      std::exit(1);
    }
    return resp;
  }

 private:
  const Args& args_;
  std::string server_, subject_, role_, unit_, token_;
  int timeout_ = 10;
  std::unique_ptr<v1::CaseService::Stub> stub_;
  std::unique_ptr<v1::HandoffService::Stub> handoff_stub_;
  std::unique_ptr<reception::routing::v1::RoutingService::Stub> routing_stub_;
  std::unique_ptr<reception::media::v1::MediaService::Stub> media_stub_;
  std::unique_ptr<reception::scheduling::v1::SchedulingService::Stub> scheduling_stub_;
  std::unique_ptr<reception::admin::v1::OutboxService::Stub> outbox_stub_;
};

void PrintJson(const Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  std::cout << out;
}

void Row(const std::string& k, const std::string& v) {
  if (!v.empty()) std::cout << absl::StrFormat("  %-22s %s\n", k, v);
}

void PrintCase(const v1::Case& c) {
  std::cout << c.name() << "  [" << Short(v1::CaseState_Name(c.state()), "CASE_STATE_") << "]\n";
  std::string kind = Short(v1::CaseKind_Name(c.kind()), "CASE_KIND_");
  if (c.complaint_round() != v1::COMPLAINT_ROUND_UNSPECIFIED) {
    absl::StrAppend(&kind, " (", Short(v1::ComplaintRound_Name(c.complaint_round()), "COMPLAINT_ROUND_"), " time)");
  }
  Row("kind", kind);
  Row("channel", Short(v1::Channel_Name(c.channel()), "CHANNEL_") +
                     (c.forwarded_by().empty() ? "" : " from " + c.forwarded_by()));
  Row("received", absl::StrCat(Date(c.received_date()), " at ", c.reception_unit().name(), " (",
                               c.reception_unit().code(), ")"));
  if (c.identity_protected()) {
    Row("petitioners", absl::StrCat(c.petitioner_count(), " (identity protected)"));
  } else if (c.anonymous()) {
    Row("petitioners", "anonymous");
  } else {
    for (const auto& p : c.petitioners()) {
      Row("petitioner", absl::StrCat(p.full_name(), p.citizen_id().empty() ? "" : ", " + p.citizen_id(),
                                     p.address().empty() ? "" : ", " + p.address()));
    }
    if (!c.representative_citizen_ids().empty()) {
      Row("representatives", absl::StrJoin(c.representative_citizen_ids(), ", "));
    }
  }
  Row("people", absl::StrCat(c.people_count(), c.mass_case() ? " (mass case)" : ""));
  std::string resp = c.respondent().official_name();
  if (!c.respondent().official_position().empty()) absl::StrAppend(&resp, ", ", c.respondent().official_position());
  if (!c.respondent().unit_code().empty()) absl::StrAppend(&resp, resp.empty() ? "" : " ", "(unit ", c.respondent().unit_code(), ")");
  Row("respondent", resp);
  Row("content", c.content());
  if (c.has_classification()) {
    Row("classified", absl::StrCat(Date(c.classification().date()), ", ",
                                   c.classification().within_competence() ? "within" : "outside",
                                   " competence, ",
                                   Short(v1::Complexity_Name(c.classification().complexity()), "COMPLEXITY_")));
  }
  if (c.has_acceptance()) Row("accepted", absl::StrCat(Date(c.acceptance().date()), ", notice ", c.acceptance().notice_reference()));
  if (c.has_refusal()) Row("refused", absl::StrCat(Date(c.refusal().date()), ", ", Short(v1::RefusalGround_Name(c.refusal().ground()), "REFUSAL_GROUND_")));
  if (c.has_guidance()) Row("guided", absl::StrCat(Date(c.guidance().date()), " to ", c.guidance().competent_body()));
  if (c.has_archival()) Row("archived", absl::StrCat(Date(c.archival().date()), ", ", Short(v1::ArchiveReason_Name(c.archival().reason()), "ARCHIVE_REASON_")));
  if (c.has_verification()) Row("verification", absl::StrCat(Date(c.verification().start_date()), " by ", c.verification().verifier()));
  for (const auto& s : c.suspensions()) {
    Row("suspended", absl::StrCat(Date(s.start_date()), " .. ", s.has_end_date() ? Date(s.end_date()) : "(open)", ": ", s.reason()));
  }
  if (c.has_decision()) Row("decided", absl::StrCat(Date(c.decision().date()), ", ", Short(v1::Outcome_Name(c.decision().outcome()), "OUTCOME_"), ", ", c.decision().decision_reference()));
  for (const auto& w : c.withdrawals()) {
    Row(w.partial() ? "partly withdrawn" : "withdrawn", absl::StrCat(Date(w.date()), ", ", w.document_reference(), w.partial() ? ": " + w.withdrawn_part() : ""));
  }
  if (c.has_filing_limit()) {
    const auto& f = c.filing_limit();
    std::string line =
        f.has_start_date() ? absl::StrCat("from ", Date(f.start_date())) : "start not recorded";
    if (f.has_due_date()) {
      absl::StrAppend(
          &line, ", ", f.length_days(), " days, last day ", Date(f.due_date()),
          f.met() ? ": filed in time" : absl::StrCat(": FILED ", f.days_late(), " DAY(S) LATE"),
          " [", f.rule_pack(), "/", f.rule_id(), "]");
    }
    if (!f.problem().empty()) absl::StrAppend(&line, " PROBLEM: ", f.problem());
    Row("filing limit", line);
    for (const auto& d : f.delays()) {
      Row("  delay", absl::StrCat(Short(v1::FilingObstacle_Name(d.obstacle()), "FILING_OBSTACLE_"),
                                  " ", Date(d.start_date()), " to ", Date(d.end_date()), " (",
                                  d.evidence_reference(), ")"));
    }
  }
  for (const auto& r : c.returns()) {
    Row("returned", absl::StrCat(Date(r.date()), " by unit ", r.from_unit(), " to unit ",
                                 r.to_unit(), ": ", r.reason()));
  }
  if (c.has_dispute()) {
    const auto& d = c.dispute();
    Row("dispute",
        absl::StrCat(Short(v1::DisputeState_Name(d.state()), "DISPUTE_STATE_"), ": unit ",
                     d.claimant_unit(), " says unit ", d.disputed_unit(), " is competent",
                     d.automatic() ? " (returned twice)" : "", "; unit ", d.deciding_unit(),
                     " decides; opened ", Date(d.opened_date())));
    if (d.state() == v1::DISPUTE_STATE_RESOLVED) {
      Row("  decided", absl::StrCat(Date(d.decided_date()), ": unit ", d.decided_unit(), " (",
                                    d.legal_basis(), "): ", d.decision_reason()));
    }
  }
  if (c.has_publication()) {
    Row("published", absl::StrCat(Date(c.publication().date()), ", ",
                                  Short(v1::PublicationMethod_Name(c.publication().method()),
                                        "PUBLICATION_METHOD_"),
                                  ", ", c.publication().reference()));
  }
  for (const auto& k : c.clocks()) {
    std::string line = absl::StrCat(
        Short(v1::ClockState_Name(k.state()), "CLOCK_STATE_"), ", ", k.length_days(), " ",
        k.basis() == v1::DAY_BASIS_WORKING_DAYS ? "working" : "calendar", " days from ",
        Date(k.start_date()));
    if (k.has_due_date()) absl::StrAppend(&line, ", due ", Date(k.due_date()));
    if (k.has_provisional()) absl::StrAppend(&line, " (provisional)");
    if (k.overdue()) absl::StrAppend(&line, " (OVERDUE)");
    if (k.has_end_date()) absl::StrAppend(&line, ", ended ", Date(k.end_date()));
    if (!k.extensions().empty()) {
      absl::StrAppend(&line, ", extended ", k.extensions_size(), "/", k.max_extensions());
    }
    absl::StrAppend(&line, " [", k.rule_pack(), "/", k.rule_id(), "]");
    if (!k.problem().empty()) absl::StrAppend(&line, " PROBLEM: ", k.problem());
    Row(absl::StrCat("clock ", Short(v1::DeadlineStep_Name(k.step()), "DEADLINE_STEP_")), line);
    if (k.has_provisional()) Row("  provisional", k.provisional().reason());
  }
  Row("owner", absl::StrCat("unit ", c.owner_unit(), ", epoch ", c.owner_epoch(),
                            c.previous_owner_unit().empty() ? "" : ", came from unit " + c.previous_owner_unit()));
  if (c.has_replica_confirm_time()) {
    Row("copy", absl::StrCat("read-only copy; the owner last confirmed it at ",
                             absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(c.replica_confirm_time().seconds()),
                                              reception::VietnamTimeZone())));
  }
  for (const auto& m : c.minutes()) {
    Row("minutes", absl::StrCat(m.room(), ", locked ",
                                absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(m.lock_time().seconds()),
                                                 reception::VietnamTimeZone())));
    for (absl::string_view line : absl::StrSplit(m.text(), '\n')) {
      if (!line.empty()) std::cout << "      | " << line << "\n";
    }
  }
  Row("etag", c.etag());
  Row("history", absl::StrCat(c.history_length(), " events, head ", c.history_head_hash().substr(0, 16)));
}

// "obstacle|YYYY-MM-DD|YYYY-MM-DD|evidence[|note]" (--filing-delay).
v1::FilingDelay ParseFilingDelay(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits('|', 4));
  if (parts.size() < 4) UsageError("--filing-delay must be \"obstacle|FROM|TO|evidence[|note]\"");
  v1::FilingDelay d;
  d.set_obstacle(ParseEnum<v1::FilingObstacle>(parts[0], "FILING_OBSTACLE_",
                                               &v1::FilingObstacle_Parse, "filing-delay"));
  *d.mutable_start_date() = ParseDateOption(parts[1], "filing-delay");
  *d.mutable_end_date() = ParseDateOption(parts[2], "filing-delay");
  d.set_evidence_reference(parts[3]);
  if (parts.size() > 4) d.set_note(parts[4]);
  return d;
}

int Run(const Args& a) {
  Client client(a);
  const bool json = a.Has("json");
  auto out_case = [&](const v1::Case& c) {
    json ? PrintJson(c) : PrintCase(c);
    return 0;
  };
  auto etag_date = [&](auto* req) {
    req->set_name(CaseName(a));
    req->set_etag(a.GetOr("etag", ""));
  };
  auto date_of = [&](auto* req) {
    if (auto d = a.Get("date")) *req->mutable_date() = ParseDateOption(*d, "date");
  };
  const std::string& cmd = a.command;

  if (cmd == "create") {
    v1::CreateCaseRequest req;
    auto* c = req.mutable_case_();
    c->set_kind(ParseEnum<v1::CaseKind>(a.GetOr("kind", ""), "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto r = a.Get("round")) c->set_complaint_round(ParseEnum<v1::ComplaintRound>(*r, "COMPLAINT_ROUND_", &v1::ComplaintRound_Parse, "round"));
    c->set_previous_case(a.GetOr("previous", ""));
    c->set_repeats_case(a.GetOr("repeats", ""));
    c->set_anonymous(a.Has("anonymous"));
    c->set_channel(ParseEnum<v1::Channel>(a.GetOr("channel", ""), "CHANNEL_", &v1::Channel_Parse, "channel"));
    c->set_forwarded_by(a.GetOr("forwarded-by", ""));
    for (const auto& p : a.All("petitioner")) {
      std::vector<std::string> parts = absl::StrSplit(p, '|');
      auto* person = c->add_petitioners();
      person->set_full_name(parts.size() > 0 ? parts[0] : "");
      person->set_citizen_id(parts.size() > 1 ? parts[1] : "");
      person->set_address(parts.size() > 2 ? parts[2] : "");
      person->set_phone(parts.size() > 3 ? parts[3] : "");
    }
    for (const auto& r : a.All("representative")) c->add_representative_citizen_ids(r);
    if (auto n = a.Get("people")) {
      int people = 0;
      if (!absl::SimpleAtoi(*n, &people)) UsageError("--people must be a number");
      c->set_people_count(people);
    }
    c->mutable_respondent()->set_unit_code(a.GetOr("respondent-unit", ""));
    c->mutable_respondent()->set_official_name(a.GetOr("respondent-official", ""));
    c->mutable_respondent()->set_official_position(a.GetOr("respondent-position", ""));
    c->mutable_respondent()->set_head_of_unit(a.Has("head-of-unit"));
    c->mutable_respondent()->set_act_reference(a.GetOr("act-reference", ""));
    if (auto d = a.Get("act-date")) *c->mutable_respondent()->mutable_act_date() = ParseDateOption(*d, "act-date");
    if (auto d = a.Get("filing-start"))
      *c->mutable_filing_limit()->mutable_start_date() = ParseDateOption(*d, "filing-start");
    for (const auto& d : a.All("filing-delay"))
      *c->mutable_filing_limit()->add_delays() = ParseFilingDelay(d);
    c->set_content(a.GetOr("content", ""));
    for (const auto& att : a.All("attachment")) {
      std::vector<std::string> parts = absl::StrSplit(att, '|');
      auto* at = c->add_attachments();
      at->set_name(parts.size() > 0 ? parts[0] : "");
      at->set_media_type(parts.size() > 1 ? parts[1] : "");
      int64_t size = 0;
      if (parts.size() > 2 && !absl::SimpleAtoi(parts[2], &size)) UsageError("--attachment size must be a number");
      at->set_size_bytes(size);
      at->set_sha256(parts.size() > 3 ? parts[3] : "");
    }
    if (auto u = a.Get("reception-unit")) c->mutable_reception_unit()->set_code(*u);
    if (auto d = a.Get("received")) *c->mutable_received_date() = ParseDateOption(*d, "received");
    c->set_previously_handled_by(a.GetOr("previously-handled-by", ""));
    // A fresh request id per invocation unless the caller pins one to retry.
    req.set_request_id(a.GetOr("request-id", absl::StrFormat("cli-%d-%d-%d", getpid(), time(nullptr), rand())));
    return out_case(client.Call(&v1::CaseService::Stub::CreateCase, req));
  }
  if (cmd == "get") {
    v1::GetCaseRequest req;
    req.set_name(CaseName(a));
    return out_case(client.Call(&v1::CaseService::Stub::GetCase, req));
  }
  if (cmd == "list" || cmd == "overdue") {
    v1::ListCasesRequest req;
    if (auto d = a.Get("due-before")) *req.mutable_due_before() = ParseDateOption(*d, "due-before");
    req.set_overdue(a.Has("overdue") || cmd == "overdue");
    req.set_awaiting_jurisdiction_decision(a.Has("awaiting-decision"));
    if (auto n = a.Get("at-risk")) {
      int days = 0;
      if (!absl::SimpleAtoi(*n, &days)) UsageError("--at-risk must be a number of working days");
      req.set_at_risk_working_days(days);
    }
    req.set_order_by(cmd == "overdue" ? "due_date" : a.GetOr("order-by", ""));
    if (auto s = a.Get("state")) req.set_state(ParseEnum<v1::CaseState>(*s, "CASE_STATE_", &v1::CaseState_Parse, "state"));
    if (auto k = a.Get("kind")) req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    req.set_unit_code(a.GetOr("unit-code", ""));
    if (auto d = a.Get("from")) *req.mutable_received_from() = ParseDateOption(*d, "from");
    if (auto d = a.Get("to")) *req.mutable_received_to() = ParseDateOption(*d, "to");
    req.set_query(a.GetOr("query", ""));
    req.set_page_token(a.GetOr("page-token", ""));
    if (auto n = a.Get("page-size")) {
      int size = 0;
      if (!absl::SimpleAtoi(*n, &size)) UsageError("--page-size must be a number");
      req.set_page_size(size);
    }
    v1::ListCasesResponse all;
    for (;;) {
      v1::ListCasesResponse page = client.Call(&v1::CaseService::Stub::ListCases, req);
      for (auto& c : *page.mutable_cases()) *all.add_cases() = std::move(c);
      all.set_next_page_token(page.next_page_token());
      if ((!a.Has("all") && cmd != "overdue") || page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    if (json) {
      PrintJson(all);
      return 0;
    }
    std::cout << absl::StrFormat("%-20s %-13s %-11s %-10s %-8s %-8s %-11s %-14s %s\n", "NUMBER", "KIND", "STATE",
                                 "RECEIVED", "UNIT", "OWNER", "DUE", "STEP", "PETITIONERS");
    for (const auto& c : all.cases()) {
      std::string who;
      if (c.identity_protected()) who = "(protected)";
      else if (c.anonymous()) who = "(anonymous)";
      else {
        std::vector<std::string> names;
        for (const auto& p : c.petitioners()) names.push_back(p.full_name());
        who = absl::StrJoin(names, ", ");
      }
      std::string due = c.has_due_date() ? Date(c.due_date()) : "-";
      if (c.overdue()) due += "!";
      std::string step = "-";
      for (const auto& k : c.clocks()) {
        if (k.state() == v1::CLOCK_STATE_RUNNING && k.has_due_date() &&
            Date(k.due_date()) == Date(c.due_date())) {
          step = Short(v1::DeadlineStep_Name(k.step()), "DEADLINE_STEP_");
          break;
        }
      }
      std::cout << absl::StrFormat("%-20s %-13s %-11s %-10s %-8s %-8s %-11s %-14s %s\n", c.number(),
                                   Short(v1::CaseKind_Name(c.kind()), "CASE_KIND_"),
                                   Short(v1::CaseState_Name(c.state()), "CASE_STATE_"),
                                   Date(c.received_date()), c.reception_unit().code(), c.owner_unit(), due,
                                   step, who);
    }
    if (!all.next_page_token().empty()) std::cout << "next page: --page-token " << all.next_page_token() << "\n";
    return 0;
  }
  auto out_handoff = [&](const v1::Handoff& h) {
    if (json) {
      PrintJson(h);
      return 0;
    }
    std::cout << h.name() << "  [" << Short(v1::HandoffState_Name(h.state()), "HANDOFF_STATE_") << "]\n";
    Row("case", h.case_());
    Row(h.is_return() ? "returned" : "transfer", absl::StrCat(h.source_unit(), " -> ", h.destination_unit(),
                                                             h.outgoing() ? " (outgoing)" : " (incoming)"));
    Row("reason", h.reason());
    Row("owner epoch", absl::StrCat(h.owner_epoch()));
    Row("attempts", h.attempts() ? absl::StrCat(h.attempts()) : "");
    Row("last error", h.last_error());
    return 0;
  };
  const std::string request_id = a.GetOr("request-id", absl::StrFormat("cli-%d-%d-%d", getpid(), time(nullptr), rand()));
  if (cmd == "route") {
    reception::routing::v1::RouteCaseRequest req;
    req.set_name(CaseName(a));
    req.set_apply(a.Has("apply"));
    req.set_request_id(request_id);
    auto d = client.Call(&reception::routing::v1::RoutingService::Stub::RouteCase, req);
    if (json) {
      PrintJson(d);
      return 0;
    }
    std::cout << d.case_() << ": " << Short(reception::routing::v1::RoutingAction_Name(d.action()), "ROUTING_ACTION_")
              << (d.action() == reception::routing::v1::ROUTING_ACTION_HANDLE_HERE ? "" : " -> " + d.competent_unit_name() + " (" + d.competent_unit() + ")")
              << "\n";
    Row("rule", absl::StrCat(d.rule_pack(), "/", d.rule_id()));
    Row("why", d.explanation());
    if (d.over_level()) Row("over level", "yes: sent above the competent level");
    if (d.archive_reason() != v1::ARCHIVE_REASON_UNSPECIFIED) {
      Row("archive reason", Short(v1::ArchiveReason_Name(d.archive_reason()), "ARCHIVE_REASON_"));
    }
    Row("inform", d.notify_unit());
    if (d.has_handoff()) Row("handoff", absl::StrCat(d.handoff().name(), " (", Short(v1::HandoffState_Name(d.handoff().state()), "HANDOFF_STATE_"), ")"));
    return 0;
  }
  if (cmd == "transfer") {
    v1::TransferCaseRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_destination_unit(a.GetOr("to", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_request_id(request_id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::TransferCase, req));
  }
  if (cmd == "return") {
    v1::ReturnCaseRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_request_id(request_id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::ReturnCase, req));
  }
  if (cmd == "dispute" || cmd == "resolve") {
    auto print = [&](const v1::JurisdictionResponse& r) {
      if (json) {
        PrintJson(r);
        return 0;
      }
      PrintCase(r.case_());
      if (!r.handoff().name().empty()) {
        std::cout << "\n"
                  << r.handoff().name() << ": to unit " << r.handoff().destination_unit() << ", "
                  << Short(v1::HandoffState_Name(r.handoff().state()), "HANDOFF_STATE_") << "\n";
      }
      return 0;
    };
    if (cmd == "dispute") {
      v1::DisputeJurisdictionRequest req;
      req.set_name(CaseName(a));
      req.set_etag(a.GetOr("etag", ""));
      req.set_competent_unit(a.GetOr("competent", ""));
      req.set_reason(a.GetOr("reason", ""));
      req.set_request_id(request_id);
      return print(client.Call(&v1::HandoffService::Stub::DisputeJurisdiction, req));
    }
    v1::ResolveJurisdictionRequest req;
    req.set_name(CaseName(a));
    req.set_etag(a.GetOr("etag", ""));
    req.set_competent_unit(a.GetOr("competent", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_legal_basis(a.GetOr("basis", ""));
    req.set_request_id(request_id);
    return print(client.Call(&v1::HandoffService::Stub::ResolveJurisdiction, req));
  }
  if (cmd == "handoff") {
    if (a.positional.empty()) UsageError("handoff needs an ID");
    v1::GetHandoffRequest req;
    const std::string& id = a.positional[0];
    req.set_name(id.rfind("handoffs/", 0) == 0 ? id : "handoffs/" + id);
    return out_handoff(client.Call(&v1::HandoffService::Stub::GetHandoff, req));
  }
  if (cmd == "handoffs") {
    v1::ListHandoffsRequest req;
    if (auto st = a.Get("state")) req.set_state(ParseEnum<v1::HandoffState>(*st, "HANDOFF_STATE_", &v1::HandoffState_Parse, "state"));
    req.set_peer_unit(a.GetOr("peer", ""));
    req.set_page_size(500);
    auto resp = client.Call(&v1::HandoffService::Stub::ListHandoffs, req);
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-30s %-10s %-8s %-8s %-9s %s\n", "HANDOFF", "STATE", "FROM", "TO", "DIRECTION", "REASON");
    for (const auto& h : resp.handoffs()) {
      std::cout << absl::StrFormat("%-30s %-10s %-8s %-8s %-9s %s\n", std::string(absl::StripPrefix(h.name(), "handoffs/")),
                                   Short(v1::HandoffState_Name(h.state()), "HANDOFF_STATE_"), h.source_unit(),
                                   h.destination_unit(), h.outgoing() ? "out" : "in",
                                   (h.is_return() ? "[return] " : "") + h.reason());
    }
    return 0;
  }
  if (cmd == "federation" && !a.positional.empty()) {
    namespace av = reception::admin::v1;
    using O = av::OutboxService::Stub;
    const std::string& sub = a.positional[0];
    auto item_name = [&]() -> std::string {
      if (a.positional.size() < 2)
        UsageError(absl::StrCat("federation ", sub, " needs an item name (outboxes/.../items/N)"));
      return a.positional[1];
    };
    if (sub == "outbox") {
      av::ListOutboxItemsRequest req;
      req.set_outbox(a.GetOr("outbox", ""));
      req.set_peer(a.GetOr("peer", ""));
      req.set_dead_only(a.Has("dead"));
      req.set_page_size(1000);
      auto resp = client.Call(&O::ListOutboxItems, req);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      std::cout << absl::StrFormat("%-32s %-8s %-5s %-8s %-40s %s\n", "ITEM", "PEER", "DEAD",
                                   "ATTEMPTS", "CARRIES", "LAST ERROR");
      for (const auto& i : resp.items()) {
        std::cout << absl::StrFormat("%-32s %-8s %-5s %-8d %-40s %s\n", i.name(), i.peer(),
                                     i.dead() ? "yes" : "no", i.attempts(), i.key(),
                                     i.last_error().substr(0, 80));
      }
      return 0;
    }
    if (sub == "retry") {
      av::RetryOutboxItemRequest req;
      req.set_name(item_name());
      auto resp = client.Call(&O::RetryOutboxItem, req);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      std::cout << resp.name() << ": back in line for unit " << resp.peer() << "\n";
      return 0;
    }
    if (sub == "cancel") {
      av::CancelOutboxItemRequest req;
      req.set_name(item_name());
      client.Call(&O::CancelOutboxItem, req);
      std::cout << req.name() << ": cancelled\n";
      return 0;
    }
    UsageError(absl::StrCat("unknown federation subcommand ", sub, " (outbox, retry, cancel)"));
  }
  if (cmd == "federation") {
    auto resp = client.Call(&v1::HandoffService::Stub::GetFederationStatus, v1::GetFederationStatusRequest());
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << "node of unit " << resp.unit_code() << "\n";
    std::cout << absl::StrFormat("%-8s %-22s %-10s %-7s %-12s %s\n", "PEER", "ADDRESS", "REACHABLE", "OUTBOX", "OLDEST (s)", "LAST ERROR");
    for (const auto& p : resp.peers()) {
      std::cout << absl::StrFormat("%-8s %-22s %-10s %-7d %-12d %s\n", p.unit_code(), p.address(),
                                   p.reachable() ? "yes" : "no", p.outbox_depth(), p.oldest_pending_seconds(),
                                   p.last_error().substr(0, 80));
    }
    return 0;
  }
  if (cmd == "schedule" || cmd == "session" || cmd == "register" || cmd == "notifications") {
    namespace sv = reception::scheduling::v1;
    using S = sv::SchedulingService::Stub;
    auto session_name = [](const std::string& n) { return n.rfind("sessions/", 0) == 0 ? n : "sessions/" + n; };
    auto print_session = [&](const sv::Session& x) {
      if (json) return PrintJson(x);
      std::cout << x.name() << "  [" << Short(sv::SessionState_Name(x.state()), "SESSION_STATE_") << "]"
                << (x.replica() ? "  (copy; hosted by " + x.host_unit() + ")" : "") << "\n";
      Row("kind", Short(sv::SessionKind_Name(x.kind()), "SESSION_KIND_"));
      Row("when", absl::StrCat(reception::FormatDate(x.date()), " ", x.start(), "-", x.end()));
      Row("presiding", x.presiding());
      Row("title", x.title());
      Row("reason", x.reason());
      for (const auto& b : x.bridges()) {
        Row("bridge", absl::StrCat(b.unit(), "  ", b.registered(), "/", b.capacity(), " registered",
                                   b.waiting() ? absl::StrCat(", ", b.waiting(), " waiting") : ""));
      }
      if (x.has_registration_cutoff()) Row("registration until", reception::FormatDate(x.registration_cutoff()));
      Row("room", x.room());
      Row("cancelled", x.cancel_reason());
      if (x.has_record()) {
        Row("held", absl::StrCat("presided by ", x.record().presided_by(), " (",
                                 Short(sv::PresidingRole_Name(x.record().presiding_role()), "PRESIDING_ROLE_"), "), ",
                                 x.record().citizens(), " citizens"));
      }
      Row("problem", x.problem());
    };
    auto print_registration = [&](const sv::Registration& r) {
      if (json) return PrintJson(r);
      std::cout << r.name() << "  [" << Short(sv::RegistrationState_Name(r.state()), "REGISTRATION_STATE_") << "]\n";
      if (r.queue_number()) Row("queue number", absl::StrCat(r.queue_number()));
      if (r.waiting_position()) Row("waiting list", absl::StrCat("position ", r.waiting_position()));
      Row("bridge", r.bridge_unit());
      Row("problem", r.problem());
    };
    const std::string sub = a.positional.empty() ? "" : a.positional[0];
    const std::string arg = a.positional.size() > 1 ? a.positional[1] : "";
    if (cmd == "notifications") {
      sv::ListNotificationsRequest r;
      auto resp = client.Call(&S::ListNotifications, r);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      for (const auto& n : resp.notifications()) {
        std::cout << absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(n.time().seconds()), reception::VietnamTimeZone())
                  << "  " << absl::StrFormat("%-20s", n.kind()) << n.registration() << "  " << n.message() << "\n";
      }
      return 0;
    }
    if (cmd == "schedule") {
      if (sub == "plan") {
        if (!a.Get("opens") && a.All("day-of-month").empty() && a.All("weekday").empty()) {
          auto plan = client.Call(&S::GetReceptionPlan, sv::GetReceptionPlanRequest());
          if (json) return PrintJson(plan), 0;
          std::cout << "unit " << plan.unit() << ": regular reception " << plan.opens() << "-" << plan.closes() << "\n";
          for (const auto& d : plan.periodic_days()) {
            Row("periodic", d.has_weekday() ? "every " + Short(sv::Weekday_Name(d.weekday()), "WEEKDAY_")
                                            : absl::StrCat("day ", d.day_of_month(), " of each month"));
          }
          return 0;
        }
        sv::SetReceptionPlanRequest r;
        r.mutable_plan()->set_opens(a.GetOr("opens", "07:30"));
        r.mutable_plan()->set_closes(a.GetOr("closes", "17:00"));
        for (const auto& d : a.All("day-of-month")) {
          int n = 0;
          if (!absl::SimpleAtoi(d, &n)) UsageError("--day-of-month must be a number");
          r.mutable_plan()->add_periodic_days()->set_day_of_month(n);
        }
        for (const auto& w : a.All("weekday")) {
          r.mutable_plan()->add_periodic_days()->set_weekday(ParseEnum<sv::Weekday>(w, "WEEKDAY_", &sv::Weekday_Parse, "weekday"));
        }
        auto plan = client.Call(&S::SetReceptionPlan, r);
        if (json) PrintJson(plan); else std::cout << "plan set for unit " << plan.unit() << "\n";
        return 0;
      }
      if (sub == "days") {
        sv::ListPlannedDaysRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        auto resp = client.Call(&S::ListPlannedDays, r);
        if (json) {
          PrintJson(resp);
          return 0;
        }
        for (const auto& d : resp.days()) {
          if (d.kind() != sv::DAY_KIND_PERIODIC && !a.flags.count("all")) continue;
          std::cout << reception::FormatDate(d.date()) << "  " << Short(sv::DayKind_Name(d.kind()), "DAY_KIND_")
                    << (d.has_moved_from() ? "  (moved from " + reception::FormatDate(d.moved_from()) + ", a day off)" : "")
                    << "\n";
        }
        return 0;
      }
      if (sub == "compliance") {
        sv::GetComplianceReportRequest r;
        r.set_unit(a.GetOr("for-unit", ""));
        int y = 0, n = 0;
        if (auto m = a.Get("month"); m && m->size() == 7 && absl::SimpleAtoi(m->substr(0, 4), &y) && absl::SimpleAtoi(m->substr(5), &n)) {
          r.set_period(sv::REPORT_PERIOD_MONTH);
        } else if (auto q = a.Get("quarter"); q && q->size() == 7 && absl::SimpleAtoi(q->substr(0, 4), &y) && absl::SimpleAtoi(q->substr(6), &n)) {
          r.set_period(sv::REPORT_PERIOD_QUARTER);
        } else {
          UsageError("schedule compliance needs --month YYYY-MM or --quarter YYYY-QN");
        }
        r.set_year(y);
        r.set_number(n);
        auto rep = client.Call(&S::GetComplianceReport, r);
        if (json) return PrintJson(rep), 0;
        std::cout << "unit " << rep.unit() << ", " << reception::FormatDate(rep.from()) << " - " << reception::FormatDate(rep.to())
                  << ": " << rep.held() << " of " << rep.required() << " required periodic reception days held, "
                  << rep.gaps() << " gap(s); presided by the head " << rep.presided_by_head() << ", by a deputy "
                  << rep.presided_by_deputy() << "\n";
        for (const auto& sp : rep.spans()) {
          std::cout << absl::StrFormat("  %s - %s  %d/%d%s  %s\n", reception::FormatDate(sp.from()), reception::FormatDate(sp.to()),
                                       sp.held(), sp.required(), sp.gap() ? "  GAP" : "", sp.rule());
          for (const auto& who : sp.presided()) std::cout << "      held " << who << "\n";
          for (const auto& d : sp.missed_planned_days()) std::cout << "      planned, not held " << reception::FormatDate(d) << "\n";
        }
        return 0;
      }
      if (sub == "ical") {
        sv::ExportCalendarRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        std::cout << client.Call(&S::ExportCalendar, r).ical();
        return 0;
      }
      UsageError("schedule needs plan, days, compliance or ical");
    }
    if (cmd == "session") {
      if (sub == "create") {
        sv::CreateSessionRequest r;
        auto* x = r.mutable_session();
        x->set_kind(ParseEnum<sv::SessionKind>(a.GetOr("kind", ""), "SESSION_KIND_", &sv::SessionKind_Parse, "kind"));
        *x->mutable_date() = ParseDateOption(a.GetOr("date", ""), "date");
        x->set_start(a.GetOr("start", ""));
        x->set_end(a.GetOr("end", ""));
        x->set_presiding(a.GetOr("presiding", ""));
        x->set_title(a.GetOr("title", ""));
        x->set_reason(a.GetOr("reason", ""));
        for (const auto& b : a.All("bridge")) {
          const size_t eq = b.find('=');
          int capacity = 0;
          if (eq == std::string::npos || !absl::SimpleAtoi(b.substr(eq + 1), &capacity)) UsageError("--bridge must be UNIT=CAPACITY");
          auto* br = x->add_bridges();
          br->set_unit(b.substr(0, eq));
          br->set_capacity(capacity);
        }
        if (auto c = a.Get("cutoff")) *x->mutable_registration_cutoff() = ParseDateOption(*c, "cutoff");
        r.set_request_id(a.GetOr("request-id", ""));
        print_session(client.Call(&S::CreateSession, r));
        return 0;
      }
      if (sub == "list") {
        sv::ListSessionsRequest r;
        *r.mutable_from() = ParseDateOption(a.GetOr("from", ""), "from");
        *r.mutable_to() = ParseDateOption(a.GetOr("to", ""), "to");
        auto resp = client.Call(&S::ListSessions, r);
        if (json) {
          PrintJson(resp);
          return 0;
        }
        for (const auto& x : resp.sessions()) {
          std::cout << absl::StrFormat("%-26s %s %s-%s  %-11s %-10s %s\n", x.name(), reception::FormatDate(x.date()), x.start(), x.end(),
                                       Short(sv::SessionKind_Name(x.kind()), "SESSION_KIND_"),
                                       Short(sv::SessionState_Name(x.state()), "SESSION_STATE_"),
                                       x.replica() ? "hosted by " + x.host_unit() : x.presiding());
        }
        return 0;
      }
      if (arg.empty()) UsageError(absl::StrCat("session ", sub, " needs a session NAME"));
      const std::string name = session_name(arg);
      if (sub == "get") {
        sv::GetSessionRequest r;
        r.set_name(name);
        print_session(client.Call(&S::GetSession, r));
        return 0;
      }
      if (sub == "agenda") {
        sv::GetSessionAgendaRequest r;
        r.set_session(name);
        auto ag = client.Call(&S::GetSessionAgenda, r);
        if (json) return PrintJson(ag), 0;
        for (const auto& i : ag.items()) {
          std::cout << absl::StrFormat("  %-8s #%-3d %-12s %-24s %s\n", i.bridge_unit(), i.queue_number(),
                                       Short(sv::RegistrationState_Name(i.state()), "REGISTRATION_STATE_"), i.full_name(),
                                       i.case_().empty() ? i.summary() : i.case_());
        }
        return 0;
      }
      if (sub == "reschedule") {
        sv::RescheduleSessionRequest r;
        r.set_name(name);
        *r.mutable_date() = ParseDateOption(a.GetOr("date", ""), "date");
        r.set_start(a.GetOr("start", ""));
        r.set_end(a.GetOr("end", ""));
        if (auto c = a.Get("cutoff")) *r.mutable_registration_cutoff() = ParseDateOption(*c, "cutoff");
        print_session(client.Call(&S::RescheduleSession, r));
        return 0;
      }
      if (sub == "cancel") {
        sv::CancelSessionRequest r;
        r.set_name(name);
        r.set_reason(a.GetOr("reason", ""));
        print_session(client.Call(&S::CancelSession, r));
        return 0;
      }
      if (sub == "record") {
        sv::RecordSessionRequest r;
        r.set_name(name);
        r.mutable_record()->set_presided_by(a.GetOr("presided-by", ""));
        r.mutable_record()->set_presiding_role(
            ParseEnum<sv::PresidingRole>(a.GetOr("presiding-role", ""), "PRESIDING_ROLE_", &sv::PresidingRole_Parse, "presiding-role"));
        int n = 0;
        if (!absl::SimpleAtoi(a.GetOr("citizens", "0"), &n)) UsageError("--citizens must be a number");
        r.mutable_record()->set_citizens(n);
        for (const auto& c : a.All("case")) r.mutable_record()->add_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
        r.mutable_record()->set_note(a.GetOr("note", ""));
        print_session(client.Call(&S::RecordSession, r));
        return 0;
      }
      UsageError("session needs create, get, list, agenda, reschedule, cancel or record");
    }
    // register
    if (sub == "cancel" || sub == "checkin") {
      if (arg.empty()) UsageError(absl::StrCat("register ", sub, " needs a REGISTRATION name"));
      if (sub == "cancel") {
        sv::CancelRegistrationRequest r;
        r.set_name(arg);
        print_registration(client.Call(&S::CancelRegistration, r));
        return 0;
      }
      sv::CheckInCitizenRequest r;
      r.set_name(arg);
      r.set_citizen_id(a.GetOr("citizen-id", ""));
      print_registration(client.Call(&S::CheckInCitizen, r));
      return 0;
    }
    if (sub.empty()) UsageError("register needs a SESSION");
    sv::RegisterCitizenRequest r;
    auto* reg = r.mutable_registration();
    reg->set_session(session_name(sub));
    reg->set_bridge_unit(a.GetOr("bridge", ""));
    reg->set_full_name(a.GetOr("name", ""));
    reg->set_citizen_id(a.GetOr("citizen-id", ""));
    if (auto c = a.Get("case")) reg->set_case_(c->rfind("cases/", 0) == 0 ? *c : "cases/" + *c);
    reg->set_summary(a.GetOr("summary", ""));
    r.set_request_id(a.GetOr("request-id", ""));
    print_registration(client.Call(&S::RegisterCitizen, r));
    return 0;
  }
  if (cmd == "room") {
    namespace m = reception::media::v1;
    if (a.positional.size() < 2) UsageError("room needs a subcommand and a room (see --help)");
    const std::string sub = a.positional[0];
    const std::string arg = a.positional[1];
    const std::string name = arg.rfind("rooms/", 0) == 0 ? arg : "rooms/" + arg;
    auto show = [&](const m::Room& r) {
      if (json) {
        PrintJson(r);
        return 0;
      }
      std::cout << r.name() << "  [" << Short(m::RoomState_Name(r.state()), "ROOM_STATE_") << "]"
                << (r.recording() ? "  (recording)" : "") << "\n";
      for (const auto& p : r.participants()) {
        std::cout << absl::StrFormat("  %-4s %-12s %-8s %-12s%s%s%s\n", p.id(), p.role(), p.unit(),
                                     Short(m::Presence_Name(p.presence()), "PRESENCE_"),
                                     r.floor_holder() == p.id() ? " FLOOR" : "", p.hand_raised() ? " hand" : "",
                                     p.muted() ? " muted" : "");
      }
      if (!r.hand_queue().empty()) Row("hands", absl::StrJoin(r.hand_queue(), ", "));
      if (!r.minutes().conclusions().empty()) {
        Row("minutes", absl::StrCat(r.minutes().locked() ? "locked" : "draft", ", signed by ",
                                    absl::StrJoin(r.minutes().signed_by(), ", "),
                                    r.minutes().awaiting_signature().empty()
                                        ? ""
                                        : absl::StrCat("; awaiting ", absl::StrJoin(r.minutes().awaiting_signature(), ", "))));
      }
      if (!r.session().empty()) Row("session", r.session());
      if (!r.agenda_cases().empty()) Row("agenda", absl::StrJoin(r.agenda_cases(), ", "));
      for (const auto& b : r.bridges()) {
        Row("bridge", absl::StrCat(b.unit(), "  ",
                                   b.presence() == m::PRESENCE_UNSPECIFIED ? "not joined"
                                                                           : Short(m::Presence_Name(b.presence()), "PRESENCE_"),
                                   b.sip_uri().empty() ? "" : "  " + b.sip_uri()));
      }
      for (const auto& at : r.minutes_attachments()) {
        Row("attached", absl::StrCat(at.case_(), "  ", Short(m::AttachmentState_Name(at.state()), "ATTACHMENT_STATE_"),
                                     at.detail().empty() ? "" : "  " + at.detail()));
      }
      if (r.link().state() != m::LINK_STATE_UNSPECIFIED) {
        Row("link", absl::StrCat("host ", r.link().host_unit(), "  ", Short(m::LinkState_Name(r.link().state()), "LINK_STATE_"),
                                 r.link().site_participant().empty() ? "" : "  site " + r.link().site_participant(),
                                 r.link().error().empty() ? "" : "  (" + r.link().error() + ")"));
      }
      return 0;
    };
    const std::string as = a.GetOr("as", "");
    const std::string target = a.GetOr("target", "");
    if (sub == "create") {
      m::CreateRoomRequest r;
      r.set_room_id(arg);
      r.set_session(a.GetOr("session", ""));
      for (const auto& c : a.All("agenda")) r.add_agenda_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
      for (const auto& b : a.All("bridge")) {
        auto* site = r.add_bridges();
        const size_t eq = b.find('=');
        site->set_unit(b.substr(0, eq));
        if (eq != std::string::npos) site->set_sip_uri(b.substr(eq + 1));
      }
      return show(client.Call(&m::MediaService::Stub::CreateRoom, r));
    }
    if (sub == "bridge") {
      m::ConnectBridgeRequest r;
      r.set_name(name);
      r.set_host_unit(a.GetOr("host", ""));
      return show(client.Call(&m::MediaService::Stub::ConnectBridge, r));
    }
    if (sub == "watch") {
      m::WatchRoomRequest r;
      r.set_name(name);
      int after = 0;
      if (auto n = a.Get("after"); n && !absl::SimpleAtoi(*n, &after)) UsageError("--after must be a number");
      r.set_after_sequence(after);
      auto status = client.Watch(r, [&](const m::RoomEvent& e) {
        if (json) {
          PrintJson(e);
        } else {
          std::cout << absl::StrFormat("%5d  %-20s %-5s %s\n", e.sequence(), e.kind(), e.participant(), e.detail())
                    << std::flush;
        }
      });
      return status;
    }
    if (sub == "get") {
      m::GetRoomRequest r;
      r.set_name(name);
      return show(client.Call(&m::MediaService::Stub::GetRoom, r));
    }
    if (sub == "open" || sub == "close") {
      if (sub == "open") {
        m::OpenRoomRequest r;
        r.set_name(name);
        return show(client.Call(&m::MediaService::Stub::OpenRoom, r));
      }
      m::CloseRoomRequest r;
      r.set_name(name);
      return show(client.Call(&m::MediaService::Stub::CloseRoom, r));
    }
    if (sub == "events") {
      m::ListRoomEventsRequest r;
      r.set_name(name);
      int after = 0;
      if (auto n = a.Get("after"); n && !absl::SimpleAtoi(*n, &after)) UsageError("--after must be a number");
      r.set_after_sequence(after);
      r.set_page_size(1000);
      auto resp = client.Call(&m::MediaService::Stub::ListRoomEvents, r);
      if (json) {
        PrintJson(resp);
        return 0;
      }
      for (const auto& e : resp.events()) {
        std::cout << absl::StrFormat("%5d  %-20s %-5s %s\n", e.sequence(), e.kind(), e.participant(), e.detail());
      }
      return 0;
    }
    if (sub == "token") {
      m::IssueJoinTokenRequest r;
      r.set_name(name);
      r.set_role(a.GetOr("participant-role", ""));
      r.set_unit(a.GetOr("site", ""));
      r.set_subject(a.GetOr("for", ""));
      int ttl = 0;
      if (auto n = a.Get("ttl"); n && !absl::SimpleAtoi(*n, &ttl)) UsageError("--ttl must be a number");
      r.set_ttl_seconds(ttl);
      auto t = client.Call(&m::MediaService::Stub::IssueJoinToken, r);
      if (json) {
        PrintJson(t);
      } else {
        std::cout << t.token() << "\n";
      }
      return 0;
    }
    if (sub == "join") {
      m::JoinRoomRequest r;
      r.set_name(name);
      r.set_join_token(a.GetOr("join-token", ""));
      auto j = client.Call(&m::MediaService::Stub::JoinRoom, r);
      if (json) {
        PrintJson(j);
        return 0;
      }
      std::cout << "participant " << j.participant() << " (media: " << j.media().backend() << ")\n";
      return show(j.room());
    }
    if (as.empty()) UsageError(absl::StrCat("room ", sub, " needs --as PARTICIPANT"));
#define RECEPTION_ROOM_CALL(Method, ...)                        \
    {                                                            \
      m::Method##Request r;                                      \
      r.set_name(name);                                          \
      r.set_participant(as);                                     \
      __VA_ARGS__;                                               \
      return show(client.Call(&m::MediaService::Stub::Method, r)); \
    }
    if (sub == "admit") RECEPTION_ROOM_CALL(AdmitParticipant, r.set_target(target))
    if (sub == "lobby") RECEPTION_ROOM_CALL(SendToLobby, r.set_target(target))
    if (sub == "grant") RECEPTION_ROOM_CALL(GrantFloor, r.set_target(target))
    if (sub == "mute") RECEPTION_ROOM_CALL(MuteParticipant, r.set_target(target); r.set_muted(true))
    if (sub == "unmute") RECEPTION_ROOM_CALL(MuteParticipant, r.set_target(target); r.set_muted(false))
    if (sub == "remove") RECEPTION_ROOM_CALL(RemoveParticipant, r.set_target(target))
    if (sub == "revoke") RECEPTION_ROOM_CALL(RevokeFloor, (void)0)
    if (sub == "record") RECEPTION_ROOM_CALL(StartRecording, (void)0)
    if (sub == "stop-record") RECEPTION_ROOM_CALL(StopRecording, (void)0)
    if (sub == "hand") RECEPTION_ROOM_CALL(RaiseHand, r.set_raised(true))
    if (sub == "lower") RECEPTION_ROOM_CALL(RaiseHand, r.set_raised(false))
    if (sub == "release") RECEPTION_ROOM_CALL(ReleaseFloor, (void)0)
    if (sub == "consent") RECEPTION_ROOM_CALL(SetRecordingConsent, r.set_consent(true))
    if (sub == "withdraw") RECEPTION_ROOM_CALL(SetRecordingConsent, r.set_consent(false))
    if (sub == "sign") RECEPTION_ROOM_CALL(SignMinutes, (void)0)
    if (sub == "leave") RECEPTION_ROOM_CALL(LeaveRoom, (void)0)
    if (sub == "heartbeat") RECEPTION_ROOM_CALL(Heartbeat, (void)0)
    if (sub == "minutes") {
      m::UpdateMinutesRequest r;
      r.set_name(name);
      r.set_participant(as);
      auto* mm = r.mutable_minutes();
      mm->set_place(a.GetOr("place", ""));
      mm->set_conclusions(a.GetOr("conclusions", ""));
      for (const auto& c : a.All("case")) mm->add_cases(c.rfind("cases/", 0) == 0 ? c : "cases/" + c);
      for (const auto& st : a.All("statement")) {
        const size_t eq = st.find('=');
        if (eq == std::string::npos) UsageError("--statement must be PARTICIPANT=TEXT");
        auto* q = mm->add_statements();
        q->set_participant(st.substr(0, eq));
        q->set_summary(st.substr(eq + 1));
      }
      return show(client.Call(&m::MediaService::Stub::UpdateMinutes, r));
    }
#undef RECEPTION_ROOM_CALL
    UsageError(absl::StrCat("unknown room subcommand \"", sub, "\""));
  }
  if (cmd == "extend") {
    v1::ExtendCaseDeadlineRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_step(ParseEnum<v1::DeadlineStep>(a.GetOr("step", "settle"), "DEADLINE_STEP_",
                                             &v1::DeadlineStep_Parse, "step"));
    req.set_decision_reference(a.GetOr("decision", ""));
    int days = 0;
    if (!absl::SimpleAtoi(a.GetOr("days", ""), &days)) UsageError("extend needs --days N");
    req.set_days(days);
    return out_case(client.Call(&v1::CaseService::Stub::ExtendCaseDeadline, req));
  }
  if (cmd == "deadlines") {
    if (a.positional.empty() || a.positional[0] != "preview") UsageError("usage: deadlines preview ...");
    v1::PreviewDeadlinesRequest req;
    if (auto k = a.Get("kind")) req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto r = a.Get("round")) req.set_complaint_round(ParseEnum<v1::ComplaintRound>(*r, "COMPLAINT_ROUND_", &v1::ComplaintRound_Parse, "round"));
    if (auto c = a.Get("complexity")) req.set_complexity(ParseEnum<v1::Complexity>(*c, "COMPLEXITY_", &v1::Complexity_Parse, "complexity"));
    req.set_unit_code(a.GetOr("unit-code", ""));
    if (auto d = a.Get("received")) *req.mutable_received_date() = ParseDateOption(*d, "received");
    if (auto d = a.Get("accepted")) *req.mutable_accepted_date() = ParseDateOption(*d, "accepted");
    auto resp = client.Call(&v1::CaseService::Stub::PreviewDeadlines, req);
    if (json) {
      PrintJson(resp);
      return 0;
    }
    std::cout << absl::StrFormat("%-14s %-11s %-11s %-11s %s\n", "STEP", "FROM", "DUE", "LATEST", "RULE");
    for (const auto& d : resp.deadlines()) {
      std::cout << absl::StrFormat("%-14s %-11s %-11s %-11s %s/%s\n",
                                   Short(v1::DeadlineStep_Name(d.step()), "DEADLINE_STEP_"),
                                   Date(d.start_date()) + (d.start_date_assumed() ? "*" : ""),
                                   Date(d.due_date()) + (d.has_provisional() ? "~" : ""),
                                   Date(d.latest_due_date()) + (d.has_provisional() ? "~" : ""),
                                   d.rule_pack(), d.rule_id());
      std::cout << "    " << d.explanation() << (d.condition().empty() ? "" : "; " + d.condition()) << "\n";
      if (!d.problem().empty()) std::cout << "    PROBLEM: " << d.problem() << "\n";
    }
    std::cout << "(calendar: " << resp.calendar()
              << "; * = assumed date; ~ = provisional: counted on days off "
                 "not yet published)\n";
    return 0;
  }
  if (cmd == "classify") {
    v1::ClassifyCaseRequest req;
    etag_date(&req);
    date_of(&req);
    const std::string competent = a.GetOr("competent", "");
    if (competent != "yes" && competent != "no") UsageError("classify needs --competent yes|no");
    req.set_within_competence(competent == "yes");
    if (auto k = a.Get("kind")) req.set_kind(ParseEnum<v1::CaseKind>(*k, "CASE_KIND_", &v1::CaseKind_Parse, "kind"));
    if (auto c = a.Get("complexity")) req.set_complexity(ParseEnum<v1::Complexity>(*c, "COMPLEXITY_", &v1::Complexity_Parse, "complexity"));
    req.set_note(a.GetOr("note", ""));
    if (auto d = a.Get("filing-start"))
      *req.mutable_filing_start_date() = ParseDateOption(*d, "filing-start");
    for (const auto& d : a.All("filing-delay")) *req.add_filing_delays() = ParseFilingDelay(d);
    return out_case(client.Call(&v1::CaseService::Stub::ClassifyCase, req));
  }
  if (cmd == "accept") {
    v1::AcceptCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_notice_reference(a.GetOr("notice", ""));
    return out_case(client.Call(&v1::CaseService::Stub::AcceptCase, req));
  }
  if (cmd == "refuse") {
    v1::RefuseCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_ground(ParseEnum<v1::RefusalGround>(a.GetOr("ground", ""), "REFUSAL_GROUND_", &v1::RefusalGround_Parse, "ground"));
    req.set_explanation(a.GetOr("explanation", ""));
    req.set_notice_reference(a.GetOr("notice", ""));
    return out_case(client.Call(&v1::CaseService::Stub::RefuseCase, req));
  }
  if (cmd == "guide") {
    v1::GuideCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_competent_body(a.GetOr("body", ""));
    req.set_note(a.GetOr("note", ""));
    return out_case(client.Call(&v1::CaseService::Stub::GuideCase, req));
  }
  if (cmd == "archive") {
    v1::ArchiveCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_reason(ParseEnum<v1::ArchiveReason>(a.GetOr("reason", ""), "ARCHIVE_REASON_", &v1::ArchiveReason_Parse, "reason"));
    req.set_duplicate_of(a.GetOr("duplicate-of", ""));
    req.set_note(a.GetOr("note", ""));
    return out_case(client.Call(&v1::CaseService::Stub::ArchiveCase, req));
  }
  if (cmd == "start-verification") {
    v1::StartCaseVerificationRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_verifier(a.GetOr("verifier", ""));
    return out_case(client.Call(&v1::CaseService::Stub::StartCaseVerification, req));
  }
  if (cmd == "suspend") {
    v1::SuspendCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_reason(a.GetOr("reason", ""));
    req.set_evidence_reference(a.GetOr("evidence", ""));
    return out_case(client.Call(&v1::CaseService::Stub::SuspendCase, req));
  }
  if (cmd == "resume") {
    v1::ResumeCaseRequest req;
    etag_date(&req);
    date_of(&req);
    return out_case(client.Call(&v1::CaseService::Stub::ResumeCase, req));
  }
  if (cmd == "decide") {
    v1::DecideCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_outcome(ParseEnum<v1::Outcome>(a.GetOr("outcome", ""), "OUTCOME_", &v1::Outcome_Parse, "outcome"));
    req.set_decision_reference(a.GetOr("decision", ""));
    req.set_summary(a.GetOr("summary", ""));
    return out_case(client.Call(&v1::CaseService::Stub::DecideCase, req));
  }
  if (cmd == "publish") {
    v1::PublishDecisionRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_method(ParseEnum<v1::PublicationMethod>(a.GetOr("method", ""), "PUBLICATION_METHOD_",
                                                    &v1::PublicationMethod_Parse, "method"));
    req.set_reference(a.GetOr("reference", ""));
    return out_case(client.Call(&v1::CaseService::Stub::PublishDecision, req));
  }
  if (cmd == "close") {
    v1::CloseCaseRequest req;
    etag_date(&req);
    return out_case(client.Call(&v1::CaseService::Stub::CloseCase, req));
  }
  if (cmd == "withdraw") {
    v1::WithdrawCaseRequest req;
    etag_date(&req);
    date_of(&req);
    req.set_partial(a.Has("partial"));
    req.set_withdrawn_part(a.GetOr("part", ""));
    req.set_reason(a.GetOr("reason", ""));
    req.set_document_reference(a.GetOr("document", ""));
    return out_case(client.Call(&v1::CaseService::Stub::WithdrawCase, req));
  }
  if (cmd == "history") {
    v1::GetCaseHistoryRequest req;
    req.set_name(CaseName(a));
    v1::GetCaseHistoryResponse all;
    for (;;) {
      auto page = client.Call(&v1::CaseService::Stub::GetCaseHistory, req);
      for (auto& e : *page.mutable_events()) *all.add_events() = std::move(e);
      if (page.next_page_token().empty()) break;
      req.set_page_token(page.next_page_token());
    }
    if (json) {
      PrintJson(all);
      return 0;
    }
    for (const auto& e : all.events()) {
      const absl::Time t = absl::FromUnixSeconds(e.time().seconds());
      std::cout << absl::StrFormat("%3d  %s  %-24s %-10s %s/%s  %s\n", e.sequence(),
                                   absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::FixedTimeZone(7 * 3600)),
                                   e.action(), Short(v1::CaseState_Name(e.state()), "CASE_STATE_"),
                                   e.actor().role(), e.actor().subject(), e.summary());
    }
    return 0;
  }
  if (cmd == "verify") {
    v1::VerifyCaseHistoryRequest req;
    req.set_name(CaseName(a));
    auto r = client.Call(&v1::CaseService::Stub::VerifyCaseHistory, req);
    if (json) {
      PrintJson(r);
    } else if (r.valid()) {
      std::cout << "history of " << req.name() << " verifies: " << r.event_count()
                << " events, head " << r.head_hash() << "\n";
    } else {
      std::cout << "history of " << req.name() << " does NOT verify at event "
                << r.first_invalid_sequence() << ": " << r.problem() << "\n";
    }
    return r.valid() ? 0 : 3;
  }
  if (cmd == "reveal") {
    v1::RevealDenouncerIdentityRequest req;
    req.set_name(CaseName(a));
    req.set_reason(a.GetOr("reason", ""));
    auto r = client.Call(&v1::CaseService::Stub::RevealDenouncerIdentity, req);
    if (json) {
      PrintJson(r);
      return 0;
    }
    for (const auto& p : r.petitioners()) {
      std::cout << "  " << p.full_name() << ", " << p.citizen_id() << ", " << p.address() << "\n";
    }
    std::cout << "(recorded as audit event " << r.audit_event_sequence() << ")\n";
    return 0;
  }
  if (cmd == "export") {
    v1::ExportReceptionLogRequest req;
    *req.mutable_start_date() = ParseDateOption(a.GetOr("from", ""), "from");
    *req.mutable_end_date() = ParseDateOption(a.GetOr("to", ""), "to");
    auto r = client.Call(&v1::CaseService::Stub::ExportReceptionLog, req);
    if (auto path = a.Get("output")) {
      std::ofstream out(*path, std::ios::binary | std::ios::trunc);
      out << r.csv();
      if (!out) {
        std::cerr << "error: cannot write " << *path << "\n";
        return 1;
      }
      std::cerr << r.row_count() << " rows written to " << *path << "\n";
    } else {
      std::cout << r.csv();
    }
    return 0;
  }
  UsageError(absl::StrCat("unknown command \"", cmd, "\""));
}

}  // namespace

// `calendar ...`: works on a calendar file, offline (no node needed).
// A development identity provider, offline: tokens and the key set.
int TokenCommand(const Args& a) {
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  auto need = [&](const char* option) {
    auto v = a.Get(option);
    if (!v || v->empty()) UsageError(absl::StrCat("token ", sub, " needs --", option));
    return *v;
  };
  if (sub != "issue" && sub != "jwks") UsageError("token needs issue or jwks");
  std::ifstream in(need("key"));
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in) UsageError("cannot read --key");
  if (sub == "jwks") {
    auto jwk = reception::PublicJwkJson(pem.str(), need("kid"));
    if (!jwk.ok()) UsageError(std::string(jwk.status().message()));
    std::cout << "{\"keys\": [" << *jwk << "]}\n";
    return 0;
  }
  int minutes = 480;
  if (auto t = a.Get("ttl-minutes"); t && (!absl::SimpleAtoi(*t, &minutes) || minutes < 1)) {
    UsageError("--ttl-minutes must be a positive number");
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  nlohmann::json claims = {{"iss", need("issuer")},
                           {"aud", need("audience")},
                           {"sub", need("subject")},
                           {"reception_role", need("role")},
                           {"reception_unit", need("unit")},
                           {"iat", now},
                           {"nbf", now},
                           {"exp", now + 60 * int64_t{minutes}}};
  // The algorithm follows the key: RSA -> RS256, P-256 -> ES256, P-384 -> ES384.
  auto jwk = reception::PublicJwkJson(pem.str(), "");
  if (!jwk.ok()) UsageError(std::string(jwk.status().message()));
  const nlohmann::json key = nlohmann::json::parse(*jwk);
  const std::string alg = key["kty"] == "RSA" ? "RS256" : key["crv"] == "P-384" ? "ES384" : "ES256";
  auto token = reception::IssueToken(pem.str(), need("kid"), alg, claims.dump());
  if (!token.ok()) UsageError(std::string(token.status().message()));
  std::cout << *token << "\n";
  return 0;
}

int CalendarCommand(const Args& a) {
  const std::string sub = a.positional.empty() ? "" : a.positional[0];
  auto file = a.Get("calendar-file");
  if (!file) UsageError("calendar needs --calendar-file FILE");
  auto cal = reception::WorkingCalendar::LoadFile(*file);
  if (!cal.ok()) {
    std::cerr << "error: " << cal.status().message() << "\n";
    return 1;
  }
  if (sub == "derive") {
    int year = 0;
    if (auto y = a.Get("year"); !y || !absl::SimpleAtoi(*y, &year))
      UsageError("calendar derive needs --year YYYY");
    auto derived = cal->DeriveYear(year);
    if (!derived.ok()) {
      std::cerr << "error: " << derived.status().message() << "\n";
      return 1;
    }
    // A `years:` entry to paste into the calendar file.
    YAML::Emitter out;
    out << YAML::BeginSeq << YAML::BeginMap;
    out << YAML::Key << "year" << YAML::Value << derived->year();
    out << YAML::Key << "provisional" << YAML::Value << true;
    out << YAML::Key << "source" << YAML::Value << derived->source();
    out << YAML::Key << "days_off" << YAML::Value << YAML::BeginSeq;
    for (const auto& d : derived->days_off()) {
      out << YAML::Flow << YAML::BeginMap << YAML::Key << "date" << YAML::Value
          << reception::FormatDate(d.date()) << YAML::Key << "name" << YAML::Value << d.name()
          << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap << YAML::EndSeq;
    std::cout << out.c_str() << "\n";
    return 0;
  }
  if (sub == "check") {
    auto published = cal->PublishedUntil();
    auto covered = cal->CoveredUntil();
    std::cout << "calendar:          " << cal->name() << "\n"
              << "published until:   " << (published ? reception::FormatDate(*published) : "-")
              << "\n"
              << "provisional until: " << (covered ? reception::FormatDate(*covered) : "-") << "\n";
    if (published && covered) {
      std::vector<int> years =
          cal->ProvisionalYears(*published + 1, std::min(*covered, *published + 366 * 3));
      if (!years.empty())
        std::cout << "provisional:       " << cal->ProvisionalReason(years) << "\n";
    }
    return 0;
  }
  UsageError("calendar needs derive or check");
}

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  if (a.Has("help") || a.command.empty() || a.command == "help") {
    std::cout << kUsage;
    return a.command.empty() && !a.Has("help") ? 2 : 0;
  }
  if (a.command == "calendar") return CalendarCommand(a);
  if (a.command == "token") return TokenCommand(a);
  return Run(a);
}
