#include "services/common/identity_vault.h"

#include <sys/stat.h>

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

TEST(IdentityVault, SealsAndUnsealsBoundToTheCase) {
  testing::TempDir dir;
  auto vault = IdentityVault::Open(dir.Join("keys"), true);
  ASSERT_TRUE(vault.ok()) << vault.status();
  auto sealed = (*vault)->Seal("Lê Thị Cúc 049301009999", "48-2026-000002");
  EXPECT_EQ(sealed.ciphertext().find("Cúc"), std::string::npos);
  auto plain = (*vault)->Unseal(sealed, "48-2026-000002");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "Lê Thị Cúc 049301009999");
  // Moved to another case: refused.
  EXPECT_EQ((*vault)->Unseal(sealed, "48-2026-000003").status().code(),
            absl::StatusCode::kDataLoss);
  auto tampered = sealed;
  tampered.mutable_ciphertext()->at(0) ^= 1;
  EXPECT_EQ((*vault)->Unseal(tampered, "48-2026-000002").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(IdentityVault, CreatedKeyFileIsPrivateAndReloads) {
  testing::TempDir dir;
  auto first = IdentityVault::Open(dir.Join("keys"), true);
  ASSERT_TRUE(first.ok());
  struct stat st;
  ASSERT_EQ(stat(dir.Join("keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto sealed = (*first)->Seal("x", "n");
  auto again = IdentityVault::Open(dir.Join("keys"), false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Unseal(sealed, "n"), "x");
  EXPECT_EQ((*first)->Fingerprint("abc"), (*again)->Fingerprint("abc"));
  EXPECT_NE((*first)->Fingerprint("abc"), (*first)->Fingerprint("abd"));
}

TEST(IdentityVault, RotationKeepsOldKeysReadable) {
  testing::TempDir dir;
  const std::string k1 = std::string(64, 'a'), k2 = std::string(64, 'b');
  testing::WriteFile(dir.Join("keys"), "k1 " + k1 + "\n");
  auto v1 = IdentityVault::Open(dir.Join("keys"), false);
  ASSERT_TRUE(v1.ok());
  auto old = (*v1)->Seal("old", "n");
  testing::WriteFile(dir.Join("keys"), "# rotated\nk1 " + k1 + "\nk2 " + k2 + "\n");
  auto v2 = IdentityVault::Open(dir.Join("keys"), false);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ((*v2)->active_key_id(), "k2");
  EXPECT_EQ((*v2)->Seal("new", "n").key_id(), "k2");
  EXPECT_EQ(*(*v2)->Unseal(old, "n"), "old");
  EXPECT_EQ((*v1)->Fingerprint("x"), (*v2)->Fingerprint("x"));
}

TEST(IdentityVault, BadKeyFilesFailWithoutEchoingKeys) {
  testing::TempDir dir;
  EXPECT_EQ(IdentityVault::Open(dir.Join("missing"), false).status().code(),
            absl::StatusCode::kNotFound);
  const std::string secret = std::string(63, 'c') + "z";
  testing::WriteFile(dir.Join("bad"), "k1 " + secret + "\n");
  auto v = IdentityVault::Open(dir.Join("bad"), false);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().find(secret), std::string::npos);
  testing::WriteFile(dir.Join("empty"), "# nothing\n");
  EXPECT_FALSE(IdentityVault::Open(dir.Join("empty"), false).ok());
}

}  // namespace
}  // namespace reception
