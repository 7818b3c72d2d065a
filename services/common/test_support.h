// Helpers for tests: temporary directories, waiting on conditions, and the
// project's data files.
#ifndef RECEPTION_SERVICES_COMMON_TEST_SUPPORT_H_
#define RECEPTION_SERVICES_COMMON_TEST_SUPPORT_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace reception::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` until it is true or `timeout` passes; returns whether it
// became true.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout);

// Absolute path of a file in the source tree, e.g. "deploy/rules/vn.yaml".
std::string SourcePath(const std::string& relative);

// Writes `content` to `path`.
void WriteFile(const std::string& path, const std::string& content);

// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

// Runs `command` with /bin/sh and returns what it printed on stdout ("" when
// it cannot run).
std::string Shell(const std::string& command);

// The text of a PDF as pdftotext (poppler-utils) reads it, its lines joined
// by spaces (a phrase wrapped on the page is found again). The PDF and a PNG
// of its first page (pdftoppm) are kept as artefacts under
// test-artifacts/<group>/<name>.* in the working directory.
std::string PdfText(const std::string& pdf, const std::string& group, const std::string& name);

// Runs an asynchronous call taking a callback of absl::StatusOr<T> and waits
// for the callback.
template <typename T, typename Call>
absl::StatusOr<T> Await(Call call) {
  absl::Notification done;
  absl::StatusOr<T> out = absl::UnknownError("not called");
  call([&](absl::StatusOr<T> r) {
    out = std::move(r);
    done.Notify();
  });
  done.WaitForNotification();
  return out;
}

}  // namespace reception::testing

#endif  // RECEPTION_SERVICES_COMMON_TEST_SUPPORT_H_
