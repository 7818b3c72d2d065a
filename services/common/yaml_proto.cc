#include "services/common/yaml_proto.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "services/common/civil_date.h"
#include "yaml-cpp/yaml.h"

namespace reception {
namespace {

namespace pb = google::protobuf;

class Loader {
 public:
  explicit Loader(std::string source) : source_(std::move(source)) {}

  absl::Status Error(const YAML::Node& node, const std::string& path,
                     const std::string& what) const {
    const YAML::Mark mark = node.Mark();
    std::string where = source_;
    if (mark.line >= 0) {
      absl::StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", path.empty() ? "document" : path, ": ", what));
  }

  absl::Status FillMessage(const YAML::Node& node, const std::string& path,
                           pb::Message* msg) const {
    if (!node.IsMap()) {
      return Error(node, path, "must be a mapping of keys to values");
    }
    const pb::Descriptor* desc = msg->GetDescriptor();
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
      const pb::FieldDescriptor* field = desc->FindFieldByName(key);
      if (field == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < desc->field_count(); ++i) {
          known.push_back(desc->field(i)->name());
        }
        return Error(kv.first, child,
                     absl::StrCat("unknown key (known keys: ", absl::StrJoin(known, ", "), ")"));
      }
      if (kv.second.IsNull()) {
        return Error(kv.second, child, "must have a value");
      }
      if (field->is_repeated()) {
        if (!kv.second.IsSequence()) {
          return Error(kv.second, child, "must be a list");
        }
        int i = 0;
        for (const auto& item : kv.second) {
          auto s = SetField(item, absl::StrCat(child, "[", i++, "]"), msg, field);
          if (!s.ok()) return s;
        }
      } else {
        auto s = SetField(kv.second, child, msg, field);
        if (!s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status SetField(const YAML::Node& node, const std::string& path, pb::Message* msg,
                        const pb::FieldDescriptor* field) const {
    const pb::Reflection* refl = msg->GetReflection();
    const bool rep = field->is_repeated();
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      pb::Message* sub = rep ? refl->AddMessage(msg, field) : refl->MutableMessage(msg, field);
      if (field->message_type()->full_name() == "reception.type.v1.Date" && node.IsScalar()) {
        auto day = ParseDate(node.Scalar());
        if (!day.ok()) return Error(node, path, std::string(day.status().message()));
        sub->CopyFrom(ToProtoDate(*day));
        return absl::OkStatus();
      }
      return FillMessage(node, path, sub);
    }
    if (!node.IsScalar()) {
      return Error(node, path, "must be a single value");
    }
    const std::string text = node.Scalar();
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_STRING:
        rep ? refl->AddString(msg, field, text) : refl->SetString(msg, field, text);
        return absl::OkStatus();
      case pb::FieldDescriptor::CPPTYPE_BOOL: {
        bool v;
        if (!absl::SimpleAtob(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not true or false"));
        }
        rep ? refl->AddBool(msg, field, v) : refl->SetBool(msg, field, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_INT32: {
        int32_t v;
        if (!absl::SimpleAtoi(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not a 32-bit integer"));
        }
        rep ? refl->AddInt32(msg, field, v) : refl->SetInt32(msg, field, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        int64_t v;
        if (!absl::SimpleAtoi(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not an integer"));
        }
        rep ? refl->AddInt64(msg, field, v) : refl->SetInt64(msg, field, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t v;
        if (!absl::SimpleAtoi(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not a non-negative integer"));
        }
        rep ? refl->AddUInt32(msg, field, v) : refl->SetUInt32(msg, field, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t v;
        if (!absl::SimpleAtoi(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not a non-negative integer"));
        }
        rep ? refl->AddUInt64(msg, field, v) : refl->SetUInt64(msg, field, v);
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        double v;
        if (!absl::SimpleAtod(text, &v)) {
          return Error(node, path, absl::StrCat("\"", text, "\" is not a number"));
        }
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT) {
          rep ? refl->AddFloat(msg, field, static_cast<float>(v))
              : refl->SetFloat(msg, field, static_cast<float>(v));
        } else {
          rep ? refl->AddDouble(msg, field, v) : refl->SetDouble(msg, field, v);
        }
        return absl::OkStatus();
      }
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumDescriptor* e = field->enum_type();
        const pb::EnumValueDescriptor* value = e->FindValueByName(text);
        if (value == nullptr) {
          // Accept the lowercase suffix: "province" for UNIT_LEVEL_PROVINCE.
          std::string prefix;
          for (char c : e->name()) {
            if (absl::ascii_isupper(c) && !prefix.empty()) prefix += '_';
            prefix += absl::ascii_toupper(c);
          }
          value = e->FindValueByName(absl::StrCat(prefix, "_", absl::AsciiStrToUpper(text)));
        }
        if (value == nullptr || value->number() == 0) {
          std::vector<std::string> names;
          for (int i = 1; i < e->value_count(); ++i) names.push_back(e->value(i)->name());
          return Error(node, path,
                       absl::StrCat("\"", text, "\" is not one of ", absl::StrJoin(names, ", ")));
        }
        rep ? refl->AddEnum(msg, field, value) : refl->SetEnum(msg, field, value);
        return absl::OkStatus();
      }
      default:
        return Error(node, path, "has a type this loader does not support");
    }
  }

  std::string source_;
};

}  // namespace

absl::Status ParseYaml(const std::string& text, const std::string& source_name,
                       google::protobuf::Message* message) {
  message->Clear();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": not valid YAML: ", e.msg));
  }
  if (!root || root.IsNull()) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": is empty"));
  }
  try {
    return Loader(source_name).FillMessage(root, "", message);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::Status LoadYamlFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot be opened"));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseYaml(buf.str(), path, message);
}

}  // namespace reception
