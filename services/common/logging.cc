#include "services/common/logging.h"

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace reception {

spdlog::logger* Log() {
  static spdlog::logger* logger = [] {
    auto l = spdlog::stderr_logger_mt("reception");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z level=%l %v");
    l->flush_on(spdlog::level::info);
    return l.get();
  }();
  return logger;
}

absl::Status SetLogLevel(absl::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("logging.level \"", level, "\" is not one of trace, debug, info, warn, error"));
  }
  Log()->set_level(parsed);
  return absl::OkStatus();
}

}  // namespace reception
