#include "tools/receptionctl/cli.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/civil_date.h"
#include "services/common/grpc_status.h"

namespace receptionctl {

int ExitFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kOk;
    case grpc::StatusCode::NOT_FOUND:
      return kNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kDenied;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kInvalid;
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::ALREADY_EXISTS:
      return kConflict;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return kUnavailable;
    default:
      return kFailed;
  }
}

int ReportError(const grpc::Status& s) {
  std::cerr << "error: " << reception::GrpcCodeName(s.error_code()) << ": " << s.error_message()
            << "\n";
  return ExitFor(s.error_code());
}

const std::set<std::string> kBooleanFlags = {
    "all",  "anonymous", "apply",   "awaiting-decision", "dead",    "head-of-unit",
    "help", "json",      "overdue", "partial",           "subtree", "csv"};
const std::set<std::string> kValueOptions = {"within",
                                             "room",
                                             "letter",
                                             "evidence-note",
                                             "first-decision",
                                             "label",
                                             "parent",
                                             "level",
                                             "as-of",
                                             "backup",
                                             "config",
                                             "service",
                                             "half",
                                             "nine-months",
                                             "open",
                                             "row",
                                             "accepted",
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

void UsageError(const std::string& what) {
  std::cerr << "receptionctl: " << what << "\nRun 'receptionctl --help' for usage.\n";
  std::exit(kUsage);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "-o") s = "--output";  // the one short option: receptionctl document ... -o FILE
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
  return absl::AsciiStrToLower(enum_name.rfind(prefix, 0) == 0 ? enum_name.substr(prefix.size())
                                                               : enum_name);
}

std::string Date(const reception::type::v1::Date& d) {
  return reception::IsUnset(d) ? "" : reception::FormatDate(d);
}

std::string RequestId(const Args& a) {
  return a.GetOr("request-id", absl::StrFormat("cli-%d-%d-%d", getpid(), time(nullptr), rand()));
}

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

}  // namespace receptionctl
