#include "services/common/logging.h"

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace reception {
namespace {

// Appends `c` escaped when it is a control character (or DEL).
template <typename Out>
void AppendEscaped(char c, Out& out) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u != 0x7f) {
    out.push_back(c);
    return;
  }
  const std::string escaped = c == '\n'   ? "\\n"
                              : c == '\r' ? "\\r"
                              : c == '\t' ? "\\t"
                                          : absl::StrFormat("\\x%02x", u);
  out.append(escaped.data(), escaped.data() + escaped.size());
}

// The message with every control character escaped: whatever a value holds,
// one event is one line.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) AppendEscaped(c, dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>();
  }
};

}  // namespace

spdlog::logger* Log() {
  static spdlog::logger* logger = [] {
    auto l = spdlog::stderr_logger_mt("reception");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %*");
    l->set_formatter(std::move(formatter));
    l->flush_on(spdlog::level::info);
    return l.get();
  }();
  return logger;
}

std::string LogValue(absl::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7f) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else {
      AppendEscaped(c, out);
    }
  }
  out.push_back('"');
  return out;
}

absl::Status SetLogLevel(absl::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrCat(
        "logging.level \"", level, "\" is not one of trace, debug, info, warn, error"));
  }
  Log()->set_level(parsed);
  return absl::OkStatus();
}

}  // namespace reception
