// Loading and validating a node's configuration file.
#ifndef RECEPTION_SERVICES_COMMON_NODE_CONFIG_H_
#define RECEPTION_SERVICES_COMMON_NODE_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "reception/config/v1/config.pb.h"

namespace reception {

struct ConfigOverrides {
  std::string listen_address;  // empty: keep the file's
  std::string admin_address;
  std::string data_dir;
};

// Reads the YAML file, applies overrides and defaults, resolves relative
// paths against the file's directory, and validates. Errors name the key and
// the file.
absl::StatusOr<config::v1::NodeConfig> LoadNodeConfig(const std::string& path,
                                                      const ConfigOverrides& overrides);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_NODE_CONFIG_H_
