// Structured logging: one line per event, "event=name key=value ...".
// Never log a protected identity, a citizen ID or request content.
#ifndef RECEPTION_SERVICES_COMMON_LOGGING_H_
#define RECEPTION_SERVICES_COMMON_LOGGING_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

// Debian's Abseil keeps its own string_view type: let the logger format it.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename Context>
  auto format(absl::string_view s, Context& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace reception {

// The process logger (stderr). Thread-safe.
spdlog::logger* Log();

// Sets the level from "trace".."error"; unknown names are an error.
absl::Status SetLogLevel(absl::string_view level);

// A logfmt value: as it is when it is a plain token, else in double quotes
// with backslash, quote and control characters escaped. Use it for every
// value that can hold text from outside (a request, a peer, an error
// message): a value must never end the line or the key=value pair. (Every
// control character left in a message is escaped by the formatter too.)
std::string LogValue(absl::string_view value);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_LOGGING_H_
