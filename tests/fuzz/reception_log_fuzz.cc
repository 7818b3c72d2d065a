// The form 03 reception log (CSV) with hostile text in every cell.
//
// Input: consumed field by field into cases (names, addresses, content,
// units, protected or not). Invariants: the output is RFC 4180 (every quote
// inside a quoted field doubled, every row with the header's number of
// fields), no cell starts with a character a spreadsheet runs as a formula,
// and a protected identity has no influence on it.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <vector>

#include "services/case/reception_log.h"
#include "tests/fuzz/fuzz_world.h"

namespace {

// Splits RFC 4180 text into rows of fields; false when it is not RFC 4180.
bool ParseCsv(const std::string& text, std::vector<std::vector<std::string>>* rows) {
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, at_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (quoted) {
      if (ch == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          if (i + 1 < text.size() && text[i + 1] != ',' && text[i + 1] != '\r') return false;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch == '"') {
      if (!at_start) return false;
      quoted = true;
      at_start = false;
    } else if (ch == ',') {
      row.push_back(std::move(field));
      field.clear();
      at_start = true;
    } else if (ch == '\r') {
      if (i + 1 >= text.size() || text[i + 1] != '\n') return false;
      ++i;
      row.push_back(std::move(field));
      field.clear();
      rows->push_back(std::move(row));
      row.clear();
      at_start = true;
    } else if (ch == '\n') {
      return false;  // a bare line feed outside quotes
    } else {
      field += ch;
      at_start = false;
    }
  }
  return !quoted && row.empty() && field.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using reception::fuzz::Require;
  FuzzedDataProvider in(data, size);
  std::vector<cases::v1::Case> rows;
  const int n = in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < n; ++i) {
    cases::v1::Case c;
    c.set_number(in.ConsumeRandomLengthString(40));
    c.set_kind(static_cast<cases::v1::CaseKind>(in.ConsumeIntegralInRange<int>(0, 3)));
    c.set_identity_protected(in.ConsumeBool());
    c.set_content(in.ConsumeRandomLengthString(200));
    c.mutable_received_date()->set_year(in.ConsumeIntegralInRange<int>(0, 3000));
    c.mutable_received_date()->set_month(in.ConsumeIntegralInRange<int>(0, 13));
    c.mutable_received_date()->set_day(in.ConsumeIntegralInRange<int>(0, 32));
    c.set_previously_handled_by(in.ConsumeRandomLengthString(60));
    c.set_anonymous(in.ConsumeBool());
    c.set_people_count(in.ConsumeIntegral<int32_t>());
    c.set_state(static_cast<cases::v1::CaseState>(in.ConsumeIntegralInRange<int>(0, 14)));
    if (in.ConsumeBool())
      c.mutable_guidance()->set_competent_body(in.ConsumeRandomLengthString(60));
    const int people = in.ConsumeIntegralInRange<int>(0, 3);
    for (int j = 0; j < people; ++j) {
      auto* p = c.add_petitioners();
      p->set_full_name(in.ConsumeRandomLengthString(60));
      p->set_citizen_id(in.ConsumeRandomLengthString(14));
      p->set_address(in.ConsumeRandomLengthString(80));
    }
    rows.push_back(std::move(c));
  }
  const std::string csv = RenderReceptionLog(rows);
  std::vector<std::vector<std::string>> parsed;
  Require(ParseCsv(csv, &parsed), "the log is RFC 4180");
  Require(parsed.size() == rows.size() + 1, "one row per case and a header");
  for (const auto& row : parsed) {
    Require(row.size() == parsed[0].size(), "every row has the header's fields");
    for (const auto& cell : row) {
      if (cell.empty()) continue;
      const char first = cell[0];
      Require(first != '=' && first != '+' && first != '-' && first != '@' && first != '\t' &&
                  first != '\r',
              "no cell starts a formula");
    }
  }
  // A protected identity has no influence on the log: the same rows with
  // those petitioners changed render the same bytes.
  for (auto& c : rows) {
    if (!c.identity_protected()) continue;
    for (auto& p : *c.mutable_petitioners()) {
      p.set_full_name("x");
      p.set_citizen_id("0");
      p.set_address("y");
    }
    c.add_petitioners()->set_full_name("z");
  }
  Require(RenderReceptionLog(rows) == csv, "no protected identity");
  return 0;
}
