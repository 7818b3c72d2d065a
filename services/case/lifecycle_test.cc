#include "services/case/lifecycle.h"

#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

using S = cases::v1::CaseState;
using T = CaseTransition;

TEST(Lifecycle, HappyPathOfAComplaint) {
  S s = S::CASE_STATE_RECEIVED;
  for (T t : {T::kClassify, T::kAccept, T::kStartVerification, T::kSuspend, T::kResume, T::kDecide,
              T::kClose}) {
    ASSERT_TRUE(CheckTransition(t, s).ok()) << TransitionName(t) << " from " << StateName(s);
    s = NextState(t, s);
  }
  EXPECT_EQ(s, S::CASE_STATE_CLOSED);
}

TEST(Lifecycle, ForbiddenTransitionNamesTheCurrentState) {
  auto st = CheckTransition(T::kAccept, S::CASE_STATE_RECEIVED);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "AcceptCase is not allowed: the case is RECEIVED; it is allowed only from CLASSIFIED");
  EXPECT_FALSE(CheckTransition(T::kDecide, S::CASE_STATE_SUSPENDED).ok());
  EXPECT_FALSE(CheckTransition(T::kClose, S::CASE_STATE_VERIFYING).ok());
  EXPECT_FALSE(CheckTransition(T::kClassify, S::CASE_STATE_CLASSIFIED).ok());
}

TEST(Lifecycle, WithdrawOnlyFromOpenStates) {
  for (int i = S::CASE_STATE_RECEIVED; i <= S::CASE_STATE_WITHDRAWN; ++i) {
    const S s = static_cast<S>(i);
    EXPECT_EQ(CheckTransition(T::kWithdraw, s).ok(), IsOpen(s)) << StateName(s);
    EXPECT_EQ(CheckTransition(T::kWithdrawPartial, s).ok(), IsOpen(s)) << StateName(s);
  }
  EXPECT_EQ(NextState(T::kWithdraw, S::CASE_STATE_VERIFYING), S::CASE_STATE_WITHDRAWN);
  EXPECT_EQ(NextState(T::kWithdrawPartial, S::CASE_STATE_VERIFYING), S::CASE_STATE_VERIFYING);
}

TEST(Lifecycle, TerminalStatesAllowNothing) {
  for (S s : {S::CASE_STATE_CLOSED, S::CASE_STATE_REFUSED, S::CASE_STATE_ARCHIVED,
              S::CASE_STATE_GUIDED, S::CASE_STATE_WITHDRAWN, S::CASE_STATE_TRANSFERRED}) {
    for (int t = 0; t <= static_cast<int>(T::kWithdrawPartial); ++t) {
      EXPECT_FALSE(CheckTransition(static_cast<T>(t), s).ok())
          << TransitionName(static_cast<T>(t)) << " from " << StateName(s);
    }
  }
}

}  // namespace
}  // namespace reception

namespace reception {
namespace {

// docs/api.md shows each kind's lifecycle exactly as the table allows it.
TEST(LifecycleDocs, TheIntegratorsGuideHoldsEveryKindsDiagram) {
  const std::string guide = testing::ReadFile(testing::SourcePath("docs/api.md"));
  for (auto kind : {cases::v1::CASE_KIND_COMPLAINT, cases::v1::CASE_KIND_DENUNCIATION,
                    cases::v1::CASE_KIND_PETITION, cases::v1::CASE_KIND_FEEDBACK}) {
    EXPECT_NE(guide.find(LifecycleMarkdown(kind)), std::string::npos)
        << "docs/api.md must hold, for " << cases::v1::CaseKind_Name(kind)
        << ", exactly what LifecycleMarkdown prints:\n"
        << LifecycleMarkdown(kind);
  }
  // A denunciation is never guided; only complaints are published.
  EXPECT_EQ(LifecycleMarkdown(cases::v1::CASE_KIND_DENUNCIATION).find("GuideCase"),
            std::string::npos);
  EXPECT_NE(LifecycleMarkdown(cases::v1::CASE_KIND_COMPLAINT).find("PublishDecision"),
            std::string::npos);
  EXPECT_EQ(LifecycleMarkdown(cases::v1::CASE_KIND_PETITION).find("PublishDecision"),
            std::string::npos);
}

}  // namespace
}  // namespace reception
