#include "tools/bench/bench_report.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"

namespace reception::bench {

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

std::string GitCommit(const std::string& source_dir) {
  std::string commit = "unknown";
  const std::string cmd =
      absl::StrCat("git -C '", source_dir, "' rev-parse --short HEAD 2>/dev/null");
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[64] = {0};
    if (fgets(buf, sizeof buf, p)) commit = std::string(buf, strcspn(buf, "\n"));
    pclose(p);
  }
  return commit;
}

std::string Today() { return FormatDate(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())); }

void WriteSection(const std::string& file, const std::string& name, const std::string& markdown) {
  const std::string begin = absl::StrCat("<!-- bench:", name, ":begin -->");
  const std::string end = absl::StrCat("<!-- bench:", name, ":end -->");
  std::string text = testing::ReadFile(file);
  const size_t b = text.find(begin), e = text.find(end);
  const std::string block = absl::StrCat(begin, "\n", markdown, end);
  if (b != std::string::npos && e != std::string::npos) {
    text.replace(b, e + end.size() - b, block);
  } else {
    text += "\n" + block + "\n";
  }
  testing::WriteFile(file, text);
}

}  // namespace reception::bench
