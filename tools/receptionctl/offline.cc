// receptionctl: offline commands (no node needed): a development identity
// provider and the working calendar file.
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/calendar/working_calendar.h"
#include "services/common/civil_date.h"
#include "services/common/clock.h"
#include "services/common/jwt.h"
#include "tools/receptionctl/cli.h"
#include "yaml-cpp/yaml.h"

namespace receptionctl {

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
}  // namespace receptionctl
