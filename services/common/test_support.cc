#include "services/common/test_support.h"

#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace reception::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/reception-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  path_ = made ? made : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(pause));
    pause = std::min(pause * 2, absl::Milliseconds(50));
  }
  return condition();
}

std::string SourcePath(const std::string& relative) {
  return std::string(RECEPTION_SOURCE_DIR) + "/" + relative;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << content;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

std::string PdfText(const std::string& pdf, const std::string& group, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::current_path() / "test-artifacts" / group;
  std::filesystem::create_directories(dir);
  const std::string path = (dir / (name + ".pdf")).string();
  std::ofstream(path, std::ios::binary) << pdf;
  Shell(absl::StrCat("pdftoppm -r 60 -png -f 1 -l 1 '", path, "' '", (dir / name).string(), "'"));
  std::string text = Shell(absl::StrCat("pdftotext -raw -enc UTF-8 '", path, "' -"));
  for (char& ch : text) {
    if (ch == '\n') ch = ' ';
  }
  return text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace reception::testing
