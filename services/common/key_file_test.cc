#include "services/common/key_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

TEST(KeyFile, BigEndianKeysSortNumerically) {
  EXPECT_LT(BigEndian64(127), BigEndian64(128));
  EXPECT_LT(BigEndian64(255), BigEndian64(256));
  EXPECT_EQ(FromBigEndian64(BigEndian64(0x0102030405060708ULL)), 0x0102030405060708ULL);
}

TEST(KeyFile, CreatedOnceWithMode0600ThenReadBack) {
  testing::TempDir dir;
  const std::string path = dir.Join("keys/node.key");
  int generated = 0;
  auto gen = [&] {
    ++generated;
    return std::make_pair(std::string(4, 'p'), std::string(8, 's'));
  };
  auto first = LoadOrCreateKeyPair(path, 4, 8, gen);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateKeyPair(path, 4, 8, gen);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(generated, 1);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(again->second, std::string(8, 's'));
  EXPECT_EQ(LoadOrCreateKeyPair(path, 32, 64, gen).status().code(), absl::StatusCode::kDataLoss);
  testing::WriteFile(dir.Join("bad"), "not a key file\n");
  EXPECT_EQ(LoadOrCreateKeyPair(dir.Join("bad"), 4, 8, gen).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(KeyFile, SharedSecretIsHexOfTheRightSizeAndOwnerOnly) {
  testing::TempDir dir;
  const std::string path = dir.Join("matching.key");
  EXPECT_EQ(LoadSharedSecret(path, 4).status().code(), absl::StatusCode::kNotFound);
  testing::WriteFile(path, "  0a1B2c3D\n");
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto open = LoadSharedSecret(path, 4);
  EXPECT_EQ(open.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(open.status().message().find("chmod 0600"), std::string::npos) << open.status();
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  auto key = LoadSharedSecret(path, 4);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(*key, std::string("\x0a\x1b\x2c\x3d", 4));
  EXPECT_EQ(LoadSharedSecret(path, 32).status().code(), absl::StatusCode::kInvalidArgument);
  testing::WriteFile(path, "0a1b2c3g");
  EXPECT_EQ(LoadSharedSecret(path, 4).status().code(), absl::StatusCode::kInvalidArgument);
}

// A Kubernetes Secret mounted for a pod with an fsGroup: root's file, mode
// 0440, group the process's own. Accepted; group-writable or world-readable
// is not, nor a group-readable file someone else owns.
TEST(KeyFile, SharedSecretMayBeAKubernetesSecretReadThroughTheGroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the file to root";
  testing::TempDir dir;
  const std::string path = dir.Join("matching.key");
  testing::WriteFile(path, "0a1b2c3d\n");
  ASSERT_EQ(chown(path.c_str(), 0, getegid()), 0);
  ASSERT_EQ(chmod(path.c_str(), 0440), 0);
  EXPECT_TRUE(LoadSharedSecret(path, 4).ok());
  ASSERT_EQ(chmod(path.c_str(), 0460), 0);
  EXPECT_FALSE(LoadSharedSecret(path, 4).ok());
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  EXPECT_FALSE(LoadSharedSecret(path, 4).ok());
  ASSERT_EQ(chmod(path.c_str(), 0440), 0);
  ASSERT_EQ(chown(path.c_str(), 1234, getegid()), 0);
  EXPECT_FALSE(LoadSharedSecret(path, 4).ok());
}

}  // namespace
}  // namespace reception
