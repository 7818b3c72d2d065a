// What every benchmark program shares: percentiles, the commit and date a
// run is recorded under, and replacing its section in BENCHMARKS.md.
#ifndef RECEPTION_TOOLS_BENCH_BENCH_REPORT_H_
#define RECEPTION_TOOLS_BENCH_BENCH_REPORT_H_

#include <string>
#include <vector>

namespace reception::bench {

// The q-quantile (0..1) of `v`, by nearest rank; 0 when empty.
double Percentile(std::vector<double> v, double q);
// The source tree's short commit, or "unknown".
std::string GitCommit(const std::string& source_dir);
// Today's date (UTC), YYYY-MM-DD.
std::string Today();
// Replaces the text between "<!-- bench:NAME:begin -->" and its end marker
// in `file` with `markdown` (appends the section when absent).
void WriteSection(const std::string& file, const std::string& name, const std::string& markdown);

}  // namespace reception::bench

#endif  // RECEPTION_TOOLS_BENCH_BENCH_REPORT_H_
