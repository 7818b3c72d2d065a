#include "services/common/yaml_proto.h"

#include "gtest/gtest.h"
#include "reception/config/v1/config.pb.h"

namespace reception {
namespace {

using config::v1::NodeConfig;

TEST(YamlProto, LoadsScalarsEnumsAndNestedMessages) {
  NodeConfig c;
  auto s = ParseYaml(R"(
unit_code: "503"
data_dir: /tmp/x
storage:
  sync_policy: none
  max_group_size: 64
auth:
  mode: AUTH_MODE_DEV_METADATA
)",
                     "node.yaml", &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.unit_code(), "503");
  EXPECT_EQ(c.storage().sync_policy(), config::v1::SYNC_POLICY_NONE);
  EXPECT_EQ(c.storage().max_group_size(), 64);
  EXPECT_EQ(c.auth().mode(), config::v1::AUTH_MODE_DEV_METADATA);
}

TEST(YamlProto, UnknownKeyNamesKeyFileAndLine) {
  NodeConfig c;
  auto s = ParseYaml("unit_code: \"1\"\nstorage:\n  sync_polcy: none\n", "node.yaml", &c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("node.yaml:3:3: storage.sync_polcy: unknown key"), std::string::npos)
      << s;
  EXPECT_NE(s.message().find("sync_policy"), std::string::npos) << "lists the known keys";
}

TEST(YamlProto, BadValuesAreErrors) {
  NodeConfig c;
  auto s = ParseYaml("storage:\n  max_group_size: many\n", "f.yaml", &c);
  EXPECT_NE(s.message().find("storage.max_group_size: \"many\" is not a 32-bit integer"),
            std::string::npos)
      << s;
  s = ParseYaml("storage:\n  sync_policy: sometimes\n", "f.yaml", &c);
  EXPECT_NE(s.message().find("is not one of SYNC_POLICY_GROUP_FSYNC, SYNC_POLICY_NONE"),
            std::string::npos)
      << s;
  s = ParseYaml("unit_code: [1, 2]\n", "f.yaml", &c);
  EXPECT_NE(s.message().find("unit_code: must be a single value"), std::string::npos) << s;
  s = ParseYaml("unit_code: : :\n", "f.yaml", &c);
  EXPECT_FALSE(s.ok());
  s = ParseYaml("", "f.yaml", &c);
  EXPECT_NE(s.message().find("is empty"), std::string::npos);
}

TEST(YamlProto, DatesAndRepeatedMessages) {
  config::v1::Topology t;
  auto s = ParseYaml(R"(
name: t
units:
  - {code: "1", name: A, level: province, valid_from: 2025-07-01}
  - {code: "2", name: B, level: commune, parent_code: "1", remote_area: true}
)",
                     "t.yaml", &t);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(t.units_size(), 2);
  EXPECT_EQ(t.units(0).valid_from().month(), 7);
  EXPECT_TRUE(t.units(1).remote_area());
  s = ParseYaml("units:\n  - {code: \"1\", valid_from: 2025-02-30}\n", "t.yaml", &t);
  EXPECT_NE(s.message().find("units[0].valid_from"), std::string::npos) << s;
}

TEST(YamlProto, MissingFileIsNotFound) {
  NodeConfig c;
  EXPECT_EQ(LoadYamlFile("/nonexistent/node.yaml", &c).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace reception
