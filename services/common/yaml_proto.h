// Loads a YAML document into a protobuf message by reflection, so each file
// format is defined once, as a proto, and validated strictly: an unknown key,
// a wrong type or an unknown enum value is an error naming the file, line,
// and key path.
#ifndef RECEPTION_SERVICES_COMMON_YAML_PROTO_H_
#define RECEPTION_SERVICES_COMMON_YAML_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

namespace reception {

// Parses the YAML file at `path` into `message` (cleared first).
// Conventions: keys are the proto field names; enum values may be written in
// full ("UNIT_LEVEL_PROVINCE") or as the lowercase suffix ("province");
// reception.type.v1.Date fields take "YYYY-MM-DD".
absl::Status LoadYamlFile(const std::string& path, google::protobuf::Message* message);

// Same, from text; `source_name` stands for the file in errors.
absl::Status ParseYaml(const std::string& text, const std::string& source_name,
                       google::protobuf::Message* message);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_YAML_PROTO_H_
