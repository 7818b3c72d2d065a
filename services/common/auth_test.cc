#include "services/common/auth.h"

#include "gtest/gtest.h"

namespace reception {
namespace {

TEST(Auth, LoopbackPeers) {
  EXPECT_TRUE(IsLoopbackPeer("ipv4:127.0.0.1:5555"));
  EXPECT_TRUE(IsLoopbackPeer("ipv6:[::1]:5555"));
  EXPECT_TRUE(IsLoopbackPeer("ipv6:%5B::1%5D:5555"));
  EXPECT_TRUE(IsLoopbackPeer("unix:/tmp/s"));
  EXPECT_FALSE(IsLoopbackPeer("ipv4:10.0.0.7:5555"));
  EXPECT_FALSE(IsLoopbackPeer("ipv6:[2001:db8::1]:5555"));
  EXPECT_FALSE(IsLoopbackPeer("ipv4:128.0.0.1:1"));
}

TEST(Auth, Roles) {
  for (Role r :
       {Role::kReceptionOfficer, Role::kInspector, Role::kHead, Role::kViewer, Role::kNode}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(ParseRole("admin").has_value());
  EXPECT_FALSE(CanChangeCases({"x", Role::kViewer, "48"}));
  EXPECT_TRUE(CanChangeCases({"x", Role::kReceptionOfficer, "48"}));
}

}  // namespace
}  // namespace reception
