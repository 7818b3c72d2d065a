#include "services/common/node_config.h"

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

TEST(NodeConfig, AppliesDefaultsResolvesPathsAndOverrides) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("node.yaml"),
                     "unit_code: \"48\"\ndata_dir: data\ntopology_file: topo.yaml\n"
                     "rules_file: /abs/rules.yaml\ncalendar_file: cal.yaml\n");
  auto c = LoadNodeConfig(dir.Join("node.yaml"), {"127.0.0.1:0", "", "/override"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_address(), "127.0.0.1:0");
  EXPECT_EQ(c->admin_address(), "127.0.0.1:9464");
  EXPECT_EQ(c->data_dir(), "/override");
  EXPECT_EQ(c->topology_file(), dir.Join("topo.yaml"));
  EXPECT_EQ(c->rules_file(), "/abs/rules.yaml");
  EXPECT_EQ(c->calendar_file(), dir.Join("cal.yaml"));
  EXPECT_EQ(c->identity_key_file(), "/override/identity.keys");
  EXPECT_EQ(c->storage().sync_policy(),
            config::v1::SYNC_POLICY_GROUP_FSYNC);  // survives power loss
  EXPECT_EQ(c->storage().max_group_size(), 1024);
  EXPECT_EQ(c->storage().write_buffer_mib(), 128);
  EXPECT_EQ(c->shutdown_grace_seconds(), 10);
  EXPECT_EQ(c->federation().follow().heartbeat_millis(), 2000);
  EXPECT_EQ(c->federation().follow().batch_millis(), 50);
}

TEST(NodeConfig, MissingRequiredKeyNamesKeyAndFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("node.yaml"), "data_dir: d\n");
  auto c = LoadNodeConfig(dir.Join("node.yaml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), dir.Join("node.yaml") + ": unit_code must be set");
}

TEST(NodeConfig, BadValueIsAStartupError) {
  testing::TempDir dir;
  testing::WriteFile(
      dir.Join("node.yaml"),
      "unit_code: \"48\"\ndata_dir: d\ntopology_file: t\nrules_file: r\ncalendar_file: c\n"
      "storage: {max_group_size: -5}\n");
  auto c = LoadNodeConfig(dir.Join("node.yaml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("storage.max_group_size must be between 1 and 65536"),
            std::string::npos);
}

TEST(NodeConfig, AMemtableBudgetUnder4MibIsAStartupError) {
  testing::TempDir dir;
  testing::WriteFile(
      dir.Join("node.yaml"),
      "unit_code: \"48\"\ndata_dir: d\ntopology_file: t\nrules_file: r\ncalendar_file: c\n"
      "storage: {write_buffer_mib: 2}\n");
  auto c = LoadNodeConfig(dir.Join("node.yaml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("storage.write_buffer_mib must be at least 4"),
            std::string::npos)
      << c.status();
}

TEST(NodeConfig, AFeedBatchLongerThanItsHeartbeatIsAStartupError) {
  testing::TempDir dir;
  testing::WriteFile(
      dir.Join("node.yaml"),
      "unit_code: \"48\"\ndata_dir: d\ntopology_file: t\nrules_file: r\ncalendar_file: c\n"
      "federation: {follow: {heartbeat_millis: 200, batch_millis: 300}}\n");
  auto c = LoadNodeConfig(dir.Join("node.yaml"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("batch_millis must not exceed heartbeat_millis"),
            std::string::npos)
      << c.status();
}

TEST(NodeConfig, ShippedLocalConfigLoads) {
  auto c = LoadNodeConfig(testing::SourcePath("deploy/local/node.yaml"), {"", "", "/tmp/x"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->unit_code(), "48");
}

}  // namespace
}  // namespace reception
