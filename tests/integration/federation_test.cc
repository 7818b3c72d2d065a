// Handoffs between real receptiond processes on loopback: a commune, a
// district and a province of Quảng Nam (2024 topology, the nodes' date set to
// 16 June 2025 through --clock_file), each a process with its own store.
// Nodes are killed, stopped and restarted while cases travel.
#include <stdio.h>

#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "reception/admin/v1/outbox_service.grpc.pb.h"
#include "reception/cases/v1/case_service.grpc.pb.h"
#include "reception/cases/v1/handoff_service.grpc.pb.h"
#include "reception/federation/v1/case_federation.grpc.pb.h"
#include "reception/routing/v1/routing_service.grpc.pb.h"
#include "services/common/civil_date.h"
#include "services/common/test_support.h"
#include "tests/integration/federation_harness.h"
#include "tests/integration/node_process.h"

namespace reception::testing {
namespace {

namespace fed = federation::v1;

std::string g_receptiond;
std::string g_reception_routing;
std::string g_receptionctl;

int Count(const std::vector<v1::CaseEvent>& events, const std::string& action) {
  int n = 0;
  for (const auto& e : events) n += e.action() == action;
  return n;
}

// commune -> district -> province, then a return by a destination that is
// not competent; every copy records where the case went and every history
// verifies; the one owner is the only node that may change it.
TEST(FederationTest, ChainAndReturn) {
  Federation f(g_receptiond, {"49", "502", "502-1"}, "2025-06-16");
  f.StartAll();
  Client commune(f.node("502-1"), "502-1"), district(f.node("502"), "502"),
      province(f.node("49"), "49");
  const v1::Case c = commune.Create(v1::CASE_KIND_COMPLAINT, "c1", "502");
  ASSERT_EQ(c.owner_unit(), "502-1");

  auto h1 = commune.Transfer(c.name(), "502", "t1");
  ASSERT_TRUE(h1.ok()) << h1.status();
  EXPECT_EQ(h1->name(), absl::StrCat("handoffs/", c.number(), ".1"));
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h1->name()); }, absl::Seconds(20)));
  auto at_district = district.Get(c.name());
  ASSERT_TRUE(at_district.ok()) << at_district.status();
  EXPECT_EQ(at_district->owner_unit(), "502");
  EXPECT_EQ(at_district->owner_epoch(), 1);
  EXPECT_EQ(at_district->state(), v1::CASE_STATE_RECEIVED);
  EXPECT_EQ(at_district->previous_owner_unit(), "502-1");
  EXPECT_TRUE(district.Verifies(c.name()));
  auto copy = commune.Get(c.name());  // answered by the owner
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->owner_unit(), "502");
  EXPECT_EQ(copy->state(), v1::CASE_STATE_RECEIVED);

  // The commune may no longer change it; the error names the owner.
  v1::ClassifyCaseRequest classify;
  classify.set_name(c.name());
  classify.set_within_competence(true);
  auto refused = commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "owned by unit 502"))
      << refused.status();

  // Reads at the commune are answered by the owner while it is reachable...
  v1::ClassifyCaseRequest at_owner;
  at_owner.set_name(c.name());
  at_owner.set_within_competence(true);
  ASSERT_TRUE(district.Call(district.cases(), &v1::CaseService::Stub::ClassifyCase, at_owner).ok());
  auto forwarded = commune.Get(c.name());
  ASSERT_TRUE(forwarded.ok());
  EXPECT_EQ(forwarded->state(), v1::CASE_STATE_CLASSIFIED);
  EXPECT_FALSE(forwarded->has_replica_confirm_time());
  // ...and from the local copy, marked with when the owner last confirmed
  // it, while it is not.
  ASSERT_EQ(f.node("502").Stop(), 0);
  auto fallback = commune.Get(c.name());
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_EQ(fallback->state(), v1::CASE_STATE_TRANSFERRED);
  EXPECT_TRUE(fallback->has_replica_confirm_time());
  ASSERT_TRUE(f.node("502").Start().ok());
  district.Reconnect();

  // On to the province, which returns it: not competent.
  auto h2 = district.Transfer(c.name(), "49", "t2");
  ASSERT_TRUE(h2.ok()) << h2.status();
  ASSERT_TRUE(WaitFor([&] { return district.Delivered(h2->name()); }, absl::Seconds(20)));
  v1::ReturnCaseRequest ret;
  ret.set_name(c.name());
  ret.set_reason("Không thuộc thẩm quyền của UBND tỉnh");
  ret.set_request_id("r1");
  auto h3 = province.Call(province.handoffs(), &v1::HandoffService::Stub::ReturnCase, ret);
  ASSERT_TRUE(h3.ok()) << h3.status();
  EXPECT_TRUE(h3->is_return());
  EXPECT_EQ(h3->destination_unit(), "502");
  ASSERT_TRUE(WaitFor([&] { return province.Delivered(h3->name()); }, absl::Seconds(20)));
  auto back = district.Get(c.name());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->owner_unit(), "502");
  EXPECT_EQ(back->owner_epoch(), 3);
  EXPECT_EQ(back->state(), v1::CASE_STATE_RECEIVED);
  const auto events = district.History(c.name());
  EXPECT_EQ(Count(events, "ImportCase"), 3);  // district, province, district again
  EXPECT_EQ(Count(events, "TransferCase"), 2);
  EXPECT_EQ(Count(events, "ReturnCase"), 1);
  EXPECT_TRUE(district.Verifies(c.name()));
  auto at_province = province.Get(c.name());
  ASSERT_TRUE(at_province.ok());
  EXPECT_EQ(at_province->owner_unit(), "502");  // the province's copy records where it went
}

// Two wards of Tam Kỳ disagree: 502-1 sends a complaint to 502-2, which
// returns it; sent again, returned again: the second return goes by itself
// to their common parent, the city of Tam Kỳ (502), which lists it as
// waiting, runs the dispute clock, and decides (its head, with the legal
// basis); the case goes to the unit decided, which can no longer return it.
TEST(FederationTest, JurisdictionDisputeGoesToTheCommonParentOnTheSecondReturn) {
  Federation f(g_receptiond, {"502", "502-1", "502-2"}, "2025-06-16");
  f.StartAll();
  Client first(f.node("502-1"), "502-1"), second(f.node("502-2"), "502-2"),
      city(f.node("502"), "502");
  const v1::Case c = first.Create(v1::CASE_KIND_COMPLAINT, "c1", "502-2");
  v1::ReturnCaseRequest ret;
  ret.set_name(c.name());
  ret.set_reason("Không thuộc thẩm quyền của UBND phường Tân Thạnh");
  for (int round = 1; round <= 2; ++round) {
    auto sent = first.Transfer(c.name(), "502-2", absl::StrCat("t", round));
    ASSERT_TRUE(sent.ok()) << sent.status();
    ASSERT_TRUE(WaitFor([&] { return first.Delivered(sent->name()); }, absl::Seconds(20)));
    ret.set_request_id(absl::StrCat("r", round));
    auto back = second.Call(second.handoffs(), &v1::HandoffService::Stub::ReturnCase, ret);
    ASSERT_TRUE(back.ok()) << back.status();
    if (round == 1) {
      EXPECT_TRUE(back->is_return());
      EXPECT_EQ(back->destination_unit(), "502-1");
    } else {
      // The same matter returned again: to the common parent, not back.
      EXPECT_FALSE(back->is_return());
      EXPECT_EQ(back->destination_unit(), "502");
    }
    ASSERT_TRUE(WaitFor([&] { return second.Delivered(back->name()); }, absl::Seconds(20)))
        << second.Handoff(back->name())->last_error();
  }
  auto at_city = city.Get(c.name());
  ASSERT_TRUE(at_city.ok()) << at_city.status();
  EXPECT_EQ(at_city->owner_unit(), "502");
  const auto& d = at_city->dispute();
  EXPECT_EQ(d.state(), v1::DISPUTE_STATE_OPEN);
  EXPECT_TRUE(d.automatic());
  EXPECT_EQ(d.claimant_unit(), "502-1");
  EXPECT_EQ(d.disputed_unit(), "502-2");
  EXPECT_EQ(d.deciding_unit(), "502");
  EXPECT_EQ(at_city->returns_size(), 2);
  // Only the dispute's clock runs at the city: 10 working days, 30 June.
  int running = 0;
  for (const auto& k : at_city->clocks()) {
    if (k.state() != v1::CLOCK_STATE_RUNNING) continue;
    ++running;
    EXPECT_EQ(k.step(), v1::DEADLINE_STEP_RESOLVE_DISPUTE);
    EXPECT_EQ(FormatDate(k.due_date()), "2025-06-30");
    EXPECT_EQ(k.rule_id(), "dispute-resolve");
  }
  EXPECT_EQ(running, 1);
  v1::ListCasesRequest waiting;
  waiting.set_awaiting_jurisdiction_decision(true);
  auto listed = city.Call(city.cases(), &v1::CaseService::Stub::ListCases, waiting, "viewer");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->cases_size(), 1);
  EXPECT_EQ(listed->cases(0).name(), c.name());
  auto none_at_ward =
      second.Call(second.cases(), &v1::CaseService::Stub::ListCases, waiting, "viewer");
  ASSERT_TRUE(none_at_ward.ok());
  EXPECT_EQ(none_at_ward->cases_size(), 0);

  // The city decides, and only by its head and only with ResolveJurisdiction.
  v1::ClassifyCaseRequest classify;
  classify.set_name(c.name());
  classify.set_within_competence(true);
  auto not_now = city.Call(city.cases(), &v1::CaseService::Stub::ClassifyCase, classify);
  EXPECT_EQ(not_now.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(not_now.status().message(), "ResolveJurisdiction"))
      << not_now.status();
  v1::ResolveJurisdictionRequest resolve;
  resolve.set_name(c.name());
  resolve.set_competent_unit("502-2");
  resolve.set_reason("Quyết định bị khiếu nại do Chủ tịch UBND phường Tân Thạnh ban hành");
  resolve.set_legal_basis("Luật Khiếu nại 2011, Điều 17");
  resolve.set_request_id("j1");
  EXPECT_EQ(city.Call(city.handoffs(), &v1::HandoffService::Stub::ResolveJurisdiction, resolve)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  resolve.set_competent_unit("503-1");  // outside the city
  EXPECT_EQ(
      city.Call(city.handoffs(), &v1::HandoffService::Stub::ResolveJurisdiction, resolve, "head")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  resolve.set_competent_unit("502-2");
  resolve.set_request_id("j2");
  auto decided =
      city.Call(city.handoffs(), &v1::HandoffService::Stub::ResolveJurisdiction, resolve, "head");
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->handoff().destination_unit(), "502-2");
  EXPECT_EQ(decided->case_().dispute().state(), v1::DISPUTE_STATE_RESOLVED);
  ASSERT_TRUE(
      WaitFor([&] { return city.Delivered(decided->handoff().name()); }, absl::Seconds(20)));

  auto owned = second.Get(c.name());
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(owned->owner_unit(), "502-2");
  EXPECT_EQ(owned->dispute().decided_unit(), "502-2");
  EXPECT_EQ(owned->dispute().legal_basis(), "Luật Khiếu nại 2011, Điều 17");
  ret.set_request_id("r3");
  auto refused = second.Call(second.handoffs(), &v1::HandoffService::Stub::ReturnCase, ret);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "cannot be returned"))
      << refused.status();
  const auto events = second.History(c.name());
  EXPECT_EQ(Count(events, "DisputeJurisdiction"), 1);
  EXPECT_EQ(Count(events, "ResolveJurisdiction"), 1);
  bool basis_in_trail = false;
  for (const auto& e : events) {
    if (e.action() == "ResolveJurisdiction")
      basis_in_trail = absl::StrContains(e.summary(), "Điều 17");
  }
  EXPECT_TRUE(basis_in_trail);
  EXPECT_TRUE(second.Verifies(c.name()));
  auto after = city.Call(city.cases(), &v1::CaseService::Stub::ListCases, waiting, "viewer");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->cases_size(), 0);
}

// Two levels: a commune maintains that another is competent and says so
// (DisputeJurisdiction); the province decides it is competent itself and
// keeps the case, its own time limits running from the decision.
TEST(FederationTest, ExplicitDisputeDecidedByTheProvinceForItself) {
  Federation f(g_receptiond, {"90", "90-1", "90-2"}, "2026-03-02", "generated:90:2");
  f.StartAll();
  Client first(f.node("90-1"), "90-1"), province(f.node("90"), "90"),
      second(f.node("90-2"), "90-2");
  const v1::Case c = first.Create(v1::CASE_KIND_PETITION, "p1", "90-2");
  auto sent = first.Transfer(c.name(), "90-2", "t1");
  ASSERT_TRUE(sent.ok()) << sent.status();
  ASSERT_TRUE(WaitFor([&] { return first.Delivered(sent->name()); }, absl::Seconds(20)));
  v1::ReturnCaseRequest ret;
  ret.set_name(c.name());
  ret.set_reason("Không thuộc thẩm quyền");
  ret.set_request_id("r1");
  auto back = second.Call(second.handoffs(), &v1::HandoffService::Stub::ReturnCase, ret);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(WaitFor([&] { return second.Delivered(back->name()); }, absl::Seconds(20)));

  v1::DisputeJurisdictionRequest dispute;
  dispute.set_name(c.name());
  dispute.set_competent_unit("nowhere");
  dispute.set_reason("Việc thuộc địa bàn xã 90-2");
  dispute.set_request_id("d1");
  auto bad = first.Call(first.handoffs(), &v1::HandoffService::Stub::DisputeJurisdiction, dispute);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "competent_unit")) << bad.status();
  dispute.set_competent_unit("90-2");
  dispute.set_request_id("d2");
  auto opened =
      first.Call(first.handoffs(), &v1::HandoffService::Stub::DisputeJurisdiction, dispute);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->handoff().destination_unit(), "90");
  EXPECT_FALSE(opened->case_().dispute().automatic());
  // A retry with the same request_id answers the same handoff.
  auto retried =
      first.Call(first.handoffs(), &v1::HandoffService::Stub::DisputeJurisdiction, dispute);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->handoff().name(), opened->handoff().name());
  ASSERT_TRUE(
      WaitFor([&] { return first.Delivered(opened->handoff().name()); }, absl::Seconds(20)));

  v1::ResolveJurisdictionRequest resolve;
  resolve.set_name(c.name());
  resolve.set_competent_unit("90");
  resolve.set_reason("Việc liên quan đến hai xã");
  resolve.set_legal_basis("Luật Tiếp công dân 2013, Điều 12");
  resolve.set_request_id("j1");
  auto kept = province.Call(province.handoffs(), &v1::HandoffService::Stub::ResolveJurisdiction,
                            resolve, "head");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_FALSE(kept->has_handoff());
  EXPECT_EQ(kept->case_().owner_unit(), "90");
  EXPECT_EQ(kept->case_().dispute().decided_unit(), "90");
  bool dispute_met = false, letter_running = false;
  for (const auto& k : kept->case_().clocks()) {
    if (k.step() == v1::DEADLINE_STEP_RESOLVE_DISPUTE)
      dispute_met = k.state() == v1::CLOCK_STATE_MET;
    if (k.step() == v1::DEADLINE_STEP_HANDLE_LETTER && k.state() == v1::CLOCK_STATE_RUNNING) {
      letter_running = FormatDate(k.start_date()) == "2026-03-02";
    }
  }
  EXPECT_TRUE(dispute_met) << kept->case_().DebugString();
  EXPECT_TRUE(letter_running) << kept->case_().DebugString();
  // Now the province handles it like any case it received.
  v1::ClassifyCaseRequest classify;
  classify.set_name(c.name());
  classify.set_within_competence(true);
  EXPECT_TRUE(province.Call(province.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());
  EXPECT_TRUE(province.Verifies(c.name()));
}

// An attacker on the machine claims to be a peer node (development
// metadata cannot stop that; mTLS will) and offers forged versions of cases
// the node owns: every offer is refused, and the cases, their protected
// identity and their histories are unchanged.
TEST(FederationTest, ForgedHandoffsAreRefusedAndChangeNothing) {
  Federation f(g_receptiond, {"48", "48-1"}, "2026-03-02", "deploy/topology/da-nang-2025.yaml");
  f.StartAll();
  Client city(f.node("48"), "48");
  auto create = [&](v1::CaseKind kind, const std::string& id) {
    auto c = city.Call(city.cases(), &v1::CaseService::Stub::CreateCase,
                       SampleCase(kind, id, "48-1", absl::CivilDay(2026, 3, 2),
                                  "Tố cáo cán bộ phường nhận hối lộ"));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : v1::Case();
  };
  const v1::Case denunciation = create(v1::CASE_KIND_DENUNCIATION, "d1");
  const v1::Case petition = create(v1::CASE_KIND_PETITION, "p1");
  ASSERT_TRUE(denunciation.identity_protected());

  auto forge = [&](const v1::Case& real) {
    fed::OfferHandoffRequest offer;
    auto* h = offer.mutable_handoff();
    h->set_name(absl::StrCat("handoffs/", real.number(), ".1"));
    h->set_case_(real.name());
    h->set_source_unit("48-1");
    h->set_destination_unit("48");
    h->set_owner_epoch(1);
    h->set_reason("forged");
    *offer.mutable_case_() = real;
    offer.mutable_case_()->set_owner_unit("48-1");
    offer.mutable_case_()->set_content("Nội dung bị sửa");
    for (const auto& e : city.History(real.name()))
      *offer.add_events() = e;  // a chain that verifies
    return offer;
  };
  // Offers made with the real certificate of a peer node (48-1 is a peer
  // of the city; 48-3 runs no node here and is no peer).
  auto offer_as = [&](const std::string& unit, const fed::OfferHandoffRequest& offer) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    fed::OfferHandoffResponse resp;
    grpc::Status s = fed::CaseFederationService::NewStub(f.node("48").NewChannelAs(unit))
                         ->OfferHandoff(&ctx, offer, &resp);
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  };

  // The denunciation with its denouncer in clear and protection switched off.
  fed::OfferHandoffRequest unprotected = forge(denunciation);
  unprotected.mutable_case_()->set_identity_protected(false);
  *unprotected.mutable_case_()->add_petitioners() =
      SampleCase(v1::CASE_KIND_DENUNCIATION, "x", "48-1", absl::CivilDay(2026, 3, 2), "x")
          .case_()
          .petitioners(0);
  auto s1 = offer_as("48-1", unprotected);
  EXPECT_EQ(s1.code(), absl::StatusCode::kInvalidArgument) << s1;
  EXPECT_TRUE(absl::StrContains(s1.message(), "case.identity_protected")) << s1;
  // Protected, but with an identity that was never sealed for this node.
  fed::OfferHandoffRequest garbage = forge(denunciation);
  grpc::ClientContext key_ctx;
  fed::NodeKey key;
  ASSERT_TRUE(fed::CaseFederationService::NewStub(f.node("48").NewChannelAs("48-1"))
                  ->GetNodeKey(&key_ctx, fed::GetNodeKeyRequest(), &key)
                  .ok());
  grpc::ClientContext officer_ctx;  // not for people, nor for nodes that are not peers
  AddPrincipal(&officer_ctx, "officer", "48");
  EXPECT_EQ(fed::CaseFederationService::NewStub(f.node("48").NewChannel())
                ->GetNodeKey(&officer_ctx, fed::GetNodeKeyRequest(), &key)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext stranger_ctx;
  EXPECT_EQ(fed::CaseFederationService::NewStub(f.node("48").NewChannelAs("48-3"))
                ->GetNodeKey(&stranger_ctx, fed::GetNodeKeyRequest(), &key)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Claiming to be a node in metadata, without its certificate: not a node.
  grpc::ClientContext claim_ctx;
  AddPrincipal(&claim_ctx, "node", "48-1");
  EXPECT_EQ(fed::CaseFederationService::NewStub(f.node("48").NewChannel())
                ->GetNodeKey(&claim_ctx, fed::GetNodeKeyRequest(), &key)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  garbage.set_node_key_id(key.key_id());
  garbage.set_sealed_identity(std::string(96, 'x'));
  auto s2 = offer_as("48-1", garbage);
  EXPECT_EQ(s2.code(), absl::StatusCode::kInvalidArgument) << s2;
  EXPECT_TRUE(absl::StrContains(s2.message(), "sealed_identity")) << s2;
  // A well-formed offer of a case this node owns.
  auto s3 = offer_as("48-1", forge(petition));
  EXPECT_EQ(s3.code(), absl::StatusCode::kFailedPrecondition) << s3;
  EXPECT_TRUE(absl::StrContains(s3.message(), "owned by this node")) << s3;
  // From a unit that is not a peer: a case nobody transferred.
  fed::OfferHandoffRequest stranger = forge(petition);
  stranger.mutable_handoff()->set_source_unit("48-3");
  stranger.mutable_case_()->set_owner_unit("48-3");
  auto s4 = offer_as("48-3", stranger);
  EXPECT_EQ(s4.code(), absl::StatusCode::kPermissionDenied) << s4;
  // A dispute the sender is no party to, or decided by the wrong unit.
  fed::OfferHandoffRequest not_a_party = forge(petition);
  auto* d = not_a_party.mutable_case_()->mutable_dispute();
  d->set_state(v1::DISPUTE_STATE_OPEN);
  d->set_claimant_unit("48-2");
  d->set_disputed_unit("48-3");
  d->set_deciding_unit("48");
  *d->mutable_opened_date() = ToProtoDate(absl::CivilDay(2026, 3, 2));
  auto s5 = offer_as("48-1", not_a_party);
  EXPECT_EQ(s5.code(), absl::StatusCode::kInvalidArgument) << s5;
  EXPECT_TRUE(absl::StrContains(s5.message(), "case.dispute")) << s5;
  fed::OfferHandoffRequest wrong_decider = not_a_party;
  d = wrong_decider.mutable_case_()->mutable_dispute();
  d->set_claimant_unit("48-1");
  d->set_deciding_unit("48-1");
  auto s6 = offer_as("48-1", wrong_decider);
  EXPECT_EQ(s6.code(), absl::StatusCode::kInvalidArgument) << s6;
  EXPECT_TRUE(absl::StrContains(s6.message(), "case.dispute.deciding_unit")) << s6;
  // A number that does not match its name.
  fed::OfferHandoffRequest mismatched = forge(petition);
  mismatched.mutable_case_()->set_number("48-2026-999999");
  EXPECT_EQ(offer_as("48-1", mismatched).code(), absl::StatusCode::kInvalidArgument);

  // What a peer judged is judged again: a complaint filed 7 days late,
  // offered with its filing limit claimed as met, arrives as late.
  Client ward(f.node("48-1"), "48-1");
  v1::CreateCaseRequest late =
      SampleCase(v1::CASE_KIND_COMPLAINT, "late", "48-1", absl::CivilDay(2026, 3, 2),
                 "Khiếu nại quyết định xử phạt");
  *late.mutable_case_()->mutable_filing_limit()->mutable_start_date() =
      ToProtoDate(absl::CivilDay(2025, 11, 20));
  auto at_ward = ward.Call(ward.cases(), &v1::CaseService::Stub::CreateCase, late);
  ASSERT_TRUE(at_ward.ok()) << at_ward.status();
  ASSERT_FALSE(at_ward->filing_limit().met());
  fed::OfferHandoffRequest claimed;
  claimed.mutable_handoff()->set_name(absl::StrCat("handoffs/", at_ward->number(), ".1"));
  claimed.mutable_handoff()->set_case_(at_ward->name());
  claimed.mutable_handoff()->set_source_unit("48-1");
  claimed.mutable_handoff()->set_destination_unit("48");
  claimed.mutable_handoff()->set_owner_epoch(1);
  claimed.mutable_handoff()->set_reason("chuyển");
  *claimed.mutable_case_() = *at_ward;
  claimed.mutable_case_()->mutable_filing_limit()->set_met(true);
  claimed.mutable_case_()->mutable_filing_limit()->set_days_late(0);
  for (const auto& e : ward.History(at_ward->name())) *claimed.add_events() = e;
  ASSERT_TRUE(offer_as("48-1", claimed).ok());
  auto judged = city.Get(at_ward->name());
  ASSERT_TRUE(judged.ok()) << judged.status();
  EXPECT_EQ(judged->owner_unit(), "48");
  EXPECT_FALSE(judged->filing_limit().met());
  EXPECT_EQ(judged->filing_limit().days_late(), 7);

  // Nothing changed: owner, epoch, content, the protected identity, history.
  for (const v1::Case& real : {denunciation, petition}) {
    auto now = city.Get(real.name());
    ASSERT_TRUE(now.ok()) << now.status();
    EXPECT_EQ(now->owner_unit(), "48");
    EXPECT_EQ(now->owner_epoch(), 0);
    EXPECT_EQ(now->content(), real.content());
    EXPECT_EQ(now->version(), real.version());
    EXPECT_TRUE(city.Verifies(real.name()));
  }
  v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(denunciation.name());
  reveal.set_reason("Xác minh nội dung tố cáo theo yêu cầu của Chánh Thanh tra");
  auto revealed =
      city.Call(city.cases(), &v1::CaseService::Stub::RevealDenouncerIdentity, reveal, "inspector");
  ASSERT_TRUE(revealed.ok()) << revealed.status();
  ASSERT_EQ(revealed->petitioners_size(), 1);
  EXPECT_EQ(revealed->petitioners(0).full_name(), "Trần Thị Mai");
}

// A generated two-level topology: a commune hands a case to the province,
// which sends it on to another commune.
TEST(FederationTest, GeneratedTwoLevelTopology) {
  Federation f(g_receptiond, {"90", "90-1", "90-2"}, "2026-03-02", "generated:90:2");
  f.StartAll();
  Client first(f.node("90-1"), "90-1"), province(f.node("90"), "90"),
      second(f.node("90-2"), "90-2");
  const v1::Case c = first.Create(v1::CASE_KIND_PETITION, "p1", "90-2");
  auto h1 = first.Transfer(c.name(), "90", "t1");
  ASSERT_TRUE(h1.ok()) << h1.status();
  ASSERT_TRUE(WaitFor([&] { return first.Delivered(h1->name()); }, absl::Seconds(20)));
  auto h2 = province.Transfer(c.name(), "90-2", "t2");
  ASSERT_TRUE(h2.ok()) << h2.status();
  ASSERT_TRUE(WaitFor([&] { return province.Delivered(h2->name()); }, absl::Seconds(20)));
  auto owned = second.Get(c.name());
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(owned->owner_unit(), "90-2");
  EXPECT_EQ(owned->owner_epoch(), 2);
  EXPECT_TRUE(second.Verifies(c.name()));
}

// Guide once along a chain of repeats (issue 18): a complaint about a unit
// without a node is guided; a repeat of it is archived ALREADY_GUIDED; a
// repeat of the repeat too: routing and GuideCase apply one rule along the
// whole chain and agree. `id` prefixes the request ids.
void ExpectGuideOnceAlongAChain(Client& commune, routing::v1::RoutingService::Stub* routing,
                                const std::string& respondent, const std::string& id,
                                absl::CivilDay received) {
  auto route = [&](const std::string& name, bool apply, const std::string& request) {
    routing::v1::RouteCaseRequest r;
    r.set_name(name);
    r.set_apply(apply);
    r.set_request_id(request);
    return commune.Call(routing, &routing::v1::RoutingService::Stub::RouteCase, r);
  };
  // A unit with no node: guide once; a repeat of the guided matter: archive.
  v1::Case elsewhere = commune.Create(v1::CASE_KIND_COMPLAINT, id + "-c2", respondent, received);
  auto guide = route(elsewhere.name(), false, "");
  ASSERT_TRUE(guide.ok()) << guide.status();
  EXPECT_EQ(guide->action(), routing::v1::ROUTING_ACTION_GUIDE);
  v1::ClassifyCaseRequest classify;
  classify.set_name(elsewhere.name());
  classify.set_within_competence(false);
  ASSERT_TRUE(commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());
  v1::GuideCaseRequest guided;
  guided.set_name(elsewhere.name());
  guided.set_competent_body(guide->competent_unit_name());
  ASSERT_TRUE(commune.Call(commune.cases(), &v1::CaseService::Stub::GuideCase, guided).ok());
  v1::CreateCaseRequest repeat;
  repeat.set_request_id(id + "-c3");
  *repeat.mutable_case_() = elsewhere;
  repeat.mutable_case_()->clear_name();
  repeat.mutable_case_()->set_repeats_case(elsewhere.name());
  auto repeated = commune.Call(commune.cases(), &v1::CaseService::Stub::CreateCase, repeat);
  ASSERT_TRUE(repeated.ok()) << repeated.status();
  auto archive = route(repeated->name(), false, "");
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(archive->action(), routing::v1::ROUTING_ACTION_ARCHIVE) << archive->explanation();
  EXPECT_EQ(archive->archive_reason(), v1::ARCHIVE_REASON_ALREADY_GUIDED);
  // A chain of three (issue 18): a repeat of the repeat. Routing and
  // GuideCase apply one rule along the whole chain and agree.
  repeat.set_request_id(id + "-c4");
  repeat.mutable_case_()->set_repeats_case(repeated->name());
  auto third = commune.Call(commune.cases(), &v1::CaseService::Stub::CreateCase, repeat);
  ASSERT_TRUE(third.ok()) << third.status();
  v1::GetCaseRequest get_third;
  get_third.set_name(third->name());
  auto read_third = commune.Call(commune.cases(), &v1::CaseService::Stub::GetCase, get_third);
  ASSERT_TRUE(read_third.ok()) << read_third.status();
  EXPECT_TRUE(read_third->matter_guidance_exhausted());
  auto archive_third = route(third->name(), false, "");
  ASSERT_TRUE(archive_third.ok()) << archive_third.status();
  EXPECT_EQ(archive_third->action(), routing::v1::ROUTING_ACTION_ARCHIVE)
      << archive_third->explanation();
  classify.set_name(third->name());
  ASSERT_TRUE(commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify).ok());
  guided.set_name(third->name());
  auto refused = commune.Call(commune.cases(), &v1::CaseService::Stub::GuideCase, guided);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "already guided 1 time(s)"))
      << refused.status();
  // The first case itself (nothing before it) may still be guided: not spent.
  v1::GetCaseRequest get_first;
  get_first.set_name(elsewhere.name());
  EXPECT_FALSE(commune.Call(commune.cases(), &v1::CaseService::Stub::GetCase, get_first)
                   ->matter_guidance_exhausted());
}

// The routing service decides by the jurisdiction rules and, asked to,
// hands the case over through the case service's API.
TEST(FederationTest, RouteCaseDecidesAndTransfers) {
  Federation f(g_receptiond, {"49", "502", "502-1"}, "2025-06-16");
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  auto routing = routing::v1::RoutingService::NewStub(f.node("502-1").NewChannel());
  auto route = [&](const std::string& name, bool apply, const std::string& id) {
    routing::v1::RouteCaseRequest r;
    r.set_name(name);
    r.set_apply(apply);
    r.set_request_id(id);
    return commune.Call(routing.get(), &routing::v1::RoutingService::Stub::RouteCase, r);
  };
  v1::Case complaint = commune.Create(v1::CASE_KIND_COMPLAINT, "c1", "502");
  auto preview = route(complaint.name(), false, "");
  ASSERT_TRUE(preview.ok()) << preview.status();
  EXPECT_EQ(preview->action(), routing::v1::ROUTING_ACTION_TRANSFER);
  EXPECT_EQ(preview->competent_unit(), "502");
  EXPECT_EQ(preview->rule_id(), "complaint-first-author");
  EXPECT_FALSE(preview->has_handoff());
  auto applied = route(complaint.name(), true, "route-1");
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_TRUE(applied->has_handoff());
  ASSERT_TRUE(
      WaitFor([&] { return commune.Delivered(applied->handoff().name()); }, absl::Seconds(20)));
  Client district(f.node("502"), "502");
  EXPECT_TRUE(district.Get(complaint.name()).ok());
  // Routing a case the commune no longer owns names the owner.
  auto gone = route(complaint.name(), false, "");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(gone.status().message(), "owned by unit 502")) << gone.status();
  // A denunciation of a provincial official goes to the province.
  v1::Case denunciation = commune.Create(v1::CASE_KIND_DENUNCIATION, "d1", "49");
  auto to_province = route(denunciation.name(), true, "route-2");
  ASSERT_TRUE(to_province.ok()) << to_province.status();
  EXPECT_EQ(to_province->competent_unit(), "49");
  ASSERT_TRUE(
      WaitFor([&] { return commune.Delivered(to_province->handoff().name()); }, absl::Seconds(20)));
  // A unit with no node: guide once, along a chain of three.
  ExpectGuideOnceAlongAChain(commune, routing.get(), "503", "qn", absl::CivilDay(2025, 6, 16));
}

// The same rule on two levels (Đà Nẵng 2025): a ward without a node.
TEST(FederationTest, GuideOnceAlongAChainOnTwoLevels) {
  Federation f(g_receptiond, {"48", "48-1"}, "2026-03-02", "deploy/topology/da-nang-2025.yaml");
  f.StartAll();
  Client ward(f.node("48-1"), "48-1");
  auto routing = routing::v1::RoutingService::NewStub(f.node("48-1").NewChannel());
  ExpectGuideOnceAlongAChain(ward, routing.get(), "48-5", "dn", absl::CivilDay(2026, 3, 2));
}

// reception-routing as its own process reaches the case service over the
// network with the same client code.
TEST(FederationTest, StandaloneRoutingProcess) {
  Federation f(g_receptiond, {"502", "502-1"}, "2025-06-16");
  f.StartAll();
  TempDir dir;
  NodeProcess::Options o;
  o.binary = g_reception_routing;
  o.unit_code = "502-1";
  o.topology = "deploy/topology/quang-nam-2024.yaml";
  o.work_dir = dir.path();
  o.peers = {{"502", f.node("502").address()}};
  o.extra_config = absl::StrCat("case_service_address: \"", f.node("502-1").address(), "\"\n");
  NodeProcess routing_node(o);
  ASSERT_TRUE(routing_node.Start().ok()) << ReadFile(routing_node.log_path());
  Client commune(f.node("502-1"), "502-1");
  const v1::Case c = commune.Create(v1::CASE_KIND_COMPLAINT, "c1", "502");
  auto routing = routing::v1::RoutingService::NewStub(routing_node.NewChannel());
  routing::v1::RouteCaseRequest r;
  r.set_name(c.name());
  r.set_apply(true);
  r.set_request_id("route-1");
  auto d = commune.Call(routing.get(), &routing::v1::RoutingService::Stub::RouteCase, r);
  ASSERT_TRUE(d.ok()) << d.status() << ReadFile(routing_node.log_path());
  ASSERT_TRUE(d->has_handoff());
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(d->handoff().name()); }, absl::Seconds(20)));
  EXPECT_EQ(routing_node.Stop(), 0);
}

// A destination that refuses a handoff for good (it does not list the
// source among its peers): the handoff becomes a dead letter instead of
// blocking its peer's queue; the head of the source's unit sees it in the
// outbox, cannot cancel it (its case would have no owner) and retries it
// once the destination's configuration is fixed: delivered.
TEST(FederationTest, ARefusedHandoffIsADeadLetterAnOperatorRetries) {
  Federation f(g_receptiond, {"502", "502-1"}, "2025-06-16");
  const std::string config = ReadFile(f.node("502").config_path());
  std::string without;
  for (absl::string_view line : absl::StrSplit(config, '\n')) {
    if (!absl::StrContains(line, "unit_code: \"502-1\"")) absl::StrAppend(&without, line, "\n");
  }
  ASSERT_NE(without.size(), config.size() + 1);
  absl::StrReplaceAll({{"  peers:\n", "  peers: []\n"}}, &without);  // 502-1 was its only peer
  WriteFile(f.node("502").config_path(), without);
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  const v1::Case c = commune.Create(v1::CASE_KIND_COMPLAINT, "c1", "502");
  auto h = commune.Transfer(c.name(), "502", "t1");
  ASSERT_TRUE(h.ok()) << h.status();
  auto outbox = admin::v1::OutboxService::NewStub(f.node("502-1").NewChannel());
  admin::v1::ListOutboxItemsRequest dead;
  dead.set_dead_only(true);
  std::string item;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto listed = commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::ListOutboxItems,
                                   dead, "viewer");
        if (!listed.ok() || listed->items_size() != 1) return false;
        item = listed->items(0).name();
        EXPECT_EQ(listed->items(0).outbox(), "handoffs");
        EXPECT_EQ(listed->items(0).key(),
                  absl::StrCat("h/", absl::StripPrefix(h->name(), "handoffs/")));
        EXPECT_TRUE(absl::StrContains(listed->items(0).last_error(), "federation peers"))
            << listed->items(0).last_error();
        return true;
      },
      absl::Seconds(20)))
      << ReadFile(f.node("502-1").log_path());
  auto pending = commune.Handoff(h->name());
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state(), v1::HANDOFF_STATE_PENDING);
  EXPECT_TRUE(absl::StrContains(pending->last_error(), "federation peers"));
  // A viewer may look, not act; a handoff cannot be given up.
  admin::v1::RetryOutboxItemRequest retry;
  retry.set_name(item);
  EXPECT_EQ(
      commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::RetryOutboxItem, retry, "viewer")
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  admin::v1::CancelOutboxItemRequest cancel;
  cancel.set_name(item);
  auto cancelled =
      commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::CancelOutboxItem, cancel, "head");
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kFailedPrecondition) << cancelled.status();
  EXPECT_TRUE(absl::StrContains(cancelled.status().message(), "cannot be cancelled"));
  // Fixed at the destination; the head retries it.
  ASSERT_EQ(f.node("502").Stop(), 0);
  WriteFile(f.node("502").config_path(), config);
  ASSERT_TRUE(f.node("502").Start().ok()) << ReadFile(f.node("502").log_path());
  auto retried =
      commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::RetryOutboxItem, retry, "head");
  ASSERT_TRUE(retried.ok()) << retried.status();
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h->name()); }, absl::Seconds(20)))
      << ReadFile(f.node("502-1").log_path());
  auto left = commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::ListOutboxItems,
                           admin::v1::ListOutboxItemsRequest(), "viewer");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->items_size(), 0);
  Client city(f.node("502"), "502");
  EXPECT_TRUE(city.Get(c.name()).ok());
}

// The destination is down for the whole transfer: the handoff waits in the
// outbox (visible in the federation status), then is delivered once it is
// back. A denouncer's identity travels sealed and only the new owner can
// reveal it.
TEST(FederationTest, DestinationDownThenBackDeliveredOnceWithTheIdentity) {
  Federation f(g_receptiond, {"49", "502-1"}, "2025-06-16");
  f.StartAll();
  ASSERT_EQ(f.node("49").Stop(), 0);
  Client commune(f.node("502-1"), "502-1");
  const v1::Case d = commune.Create(v1::CASE_KIND_DENUNCIATION, "d1", "49");
  ASSERT_TRUE(d.identity_protected());
  auto h = commune.Transfer(d.name(), "49", "t1");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = commune.Call(commune.handoffs(), &v1::HandoffService::Stub::GetFederationStatus,
                              v1::GetFederationStatusRequest(), "viewer");
        return s.ok() && s->peers_size() == 1 && s->peers(0).outbox_depth() == 1 &&
               !s->peers(0).reachable() && !s->peers(0).last_error().empty();
      },
      absl::Seconds(20)));
  auto pending = commune.Handoff(h->name());
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->state(), v1::HANDOFF_STATE_PENDING);
  EXPECT_GE(pending->attempts(), 1);

  ASSERT_TRUE(f.node("49").Start().ok());
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h->name()); }, absl::Seconds(30)));
  Client province(f.node("49"), "49");
  auto owned = province.Get(d.name());
  ASSERT_TRUE(owned.ok()) << owned.status();
  EXPECT_EQ(Count(province.History(d.name()), "ImportCase"), 1);
  EXPECT_TRUE(owned->petitioners().empty());  // redacted as ever

  v1::RevealDenouncerIdentityRequest reveal;
  reveal.set_name(d.name());
  reveal.set_reason("Xác minh nội dung tố cáo theo thẩm quyền");
  auto revealed = province.Call(province.cases(), &v1::CaseService::Stub::RevealDenouncerIdentity,
                                reveal, "inspector");
  ASSERT_TRUE(revealed.ok()) << revealed.status();
  ASSERT_EQ(revealed->petitioners_size(), 1);
  EXPECT_EQ(revealed->petitioners(0).full_name(), "Trần Thị Mai");
  auto at_source = commune.Call(commune.cases(), &v1::CaseService::Stub::RevealDenouncerIdentity,
                                reveal, "inspector");
  EXPECT_FALSE(at_source.ok());  // the identity left with the case
}

// kill -9 of the source right after the outbox write (the destination is
// down, so the handoff is still queued), and of the destination after the
// import but before the source recorded the acknowledgement: after restarts
// there is exactly one owner and one import.
TEST(FederationTest, KillNineOnBothSidesExactlyOneOwner) {
  Federation f(g_receptiond, {"502", "502-1"}, "2025-06-16");
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  ASSERT_EQ(f.node("502").Stop(), 0);
  const v1::Case c = commune.Create(v1::CASE_KIND_COMPLAINT, "c1", "502");
  auto h = commune.Transfer(c.name(), "502", "t1");
  ASSERT_TRUE(h.ok());
  f.node("502-1").Kill();  // the handoff is only in the source's outbox
  ASSERT_TRUE(f.node("502").Start().ok());
  ASSERT_TRUE(f.node("502-1").Start().ok());
  commune.Reconnect();
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h->name()); }, absl::Seconds(30)));

  // Now the other side: the destination dies right after its import is
  // durable, before answering (--test_fault), so the source never hears of
  // it and offers again after the restart: acknowledged as already imported.
  ASSERT_EQ(f.node("502").Stop(), 0);
  const auto normal_args = f.node("502").extra_args();
  auto faulty_args = normal_args;
  faulty_args.push_back("--test_fault=crash_after_import");
  f.node("502").set_extra_args(faulty_args);
  ASSERT_TRUE(f.node("502").Start().ok());
  const v1::Case c2 = commune.Create(v1::CASE_KIND_COMPLAINT, "c2", "502");
  auto h2 = commune.Transfer(c2.name(), "502", "t2");
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(f.node("502").WaitExit(absl::Seconds(30)), 137);
  auto not_yet = commune.Handoff(h2->name());
  ASSERT_TRUE(not_yet.ok());
  EXPECT_EQ(not_yet->state(), v1::HANDOFF_STATE_PENDING);  // no acknowledgement came
  f.node("502").set_extra_args(normal_args);
  ASSERT_TRUE(f.node("502").Start().ok());
  Client district(f.node("502"), "502");
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h2->name()); }, absl::Seconds(30)));
  for (const auto* cs : {&c, &c2}) {
    auto owned = district.Get(cs->name());
    ASSERT_TRUE(owned.ok());
    EXPECT_EQ(owned->owner_unit(), "502");
    EXPECT_EQ(Count(district.History(cs->name()), "ImportCase"), 1);
    EXPECT_TRUE(district.Verifies(cs->name()));
    auto copy = commune.Get(cs->name());
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(copy->owner_unit(), "502");
  }
}

// 200 transfers in flight while the destination restarts twice: all
// delivered, none imported twice.
TEST(FederationTest, TwoHundredTransfersWhileTheDestinationRestartsTwice) {
  Federation f(g_receptiond, {"502", "502-1"}, "2025-06-16");
  f.StartAll();
  Client commune(f.node("502-1"), "502-1");
  std::vector<std::string> names, handoffs;
  for (int i = 0; i < 200; ++i) {
    const v1::Case c = commune.Create(v1::CASE_KIND_COMPLAINT, absl::StrCat("c", i), "502");
    ASSERT_FALSE(c.name().empty());
    names.push_back(c.name());
    auto h = commune.Transfer(c.name(), "502", absl::StrCat("t", i));
    ASSERT_TRUE(h.ok()) << h.status();
    handoffs.push_back(h->name());
    if (i == 60 || i == 140) {
      ASSERT_EQ(f.node("502").Stop(), 0);
      ASSERT_TRUE(f.node("502").Start().ok());
    }
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const auto& h : handoffs) {
          if (!commune.Delivered(h)) return false;
        }
        return true;
      },
      absl::Seconds(120)))
      << [&] {
           std::string out;
           for (const auto& h : handoffs) {
             auto got = commune.Handoff(h);
             if (got.ok() && got->state() != v1::HANDOFF_STATE_DELIVERED) {
               out += absl::StrCat(h, " attempts ", got->attempts(), ": ", got->last_error(), "\n");
               break;
             }
           }
           return out + ReadFile(f.node("502-1").log_path()).substr(0, 20000);
         }();
  Client district(f.node("502"), "502");
  std::set<std::string> seen;
  for (const auto& n : names) {
    EXPECT_EQ(Count(district.History(n), "ImportCase"), 1) << n;
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 200u);
  v1::ListCasesRequest list;
  list.set_page_size(500);
  auto all = district.Call(district.cases(), &v1::CaseService::Stub::ListCases, list, "viewer");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->cases_size(), 200);
}

// A commune restored from a backup taken before it handed a case to its
// district: at start it holds every case it owned in the backup back
// (writes wait, UNAVAILABLE), asks each peer which it still owns, and turns
// the case the district holds at a higher epoch into a read-only copy, so
// the district's later return is accepted. A peer that never answers (the
// province here, down) keeps the rest waiting until an operator cancels its
// question. Cases registered after the restore are never held back.
TEST(FederationTest, ARestoredNodeLearnsFromItsPeersWhatItHandedAwayAfterTheBackup) {
  TempDir backups;
  Federation f(g_receptiond, {"49", "502", "502-1"}, "2025-06-16",
               "deploy/topology/quang-nam-2024.yaml",
               absl::StrCat("backup:\n  dir: ", backups.path(), "\n"));
  NodeProcess& node = f.node("502-1");
  ASSERT_TRUE(f.node("502").Start().ok()) << ReadFile(f.node("502").log_path());
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  Client commune(node, "502-1"), district(f.node("502"), "502");
  const v1::Case away = commune.Create(v1::CASE_KIND_COMPLAINT, "away", "502");
  const v1::Case kept = commune.Create(v1::CASE_KIND_COMPLAINT, "kept", "502-1");
  const std::string out = Shell(g_receptionctl + node.CliFlags("head", "502-1") +
                                "admin backup --label before-transfer 2>&1");
  const size_t at = out.find(backups.path() + "/");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string backup = out.substr(at, out.find('\n', at) - at);
  auto h = commune.Transfer(away.name(), "502", "t-away");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_TRUE(WaitFor([&] { return commune.Delivered(h->name()); }, absl::Seconds(20)));

  // The commune's disk is lost; it comes back from the backup while the
  // district is down too.
  ASSERT_EQ(node.Stop(), 0);
  ASSERT_EQ(f.node("502").Stop(), 0);
  const std::string data = f.dir() + "/502-1/data";
  ASSERT_EQ(rename(data.c_str(), (data + ".lost").c_str()), 0);
  const std::string restored =
      Shell(absl::StrCat(g_receptionctl, " admin restore --config ", node.config_path(),
                         " --backup ", backup, " 2>&1; echo exit=$?"));
  ASSERT_TRUE(absl::StrContains(restored, "exit=0")) << restored;
  ASSERT_TRUE(node.Start().ok()) << ReadFile(node.log_path());
  commune.Reconnect();
  EXPECT_TRUE(absl::StrContains(ReadFile(node.log_path()), "cases_to_confirm=2"))
      << ReadFile(node.log_path());
  v1::ClassifyCaseRequest classify_kept;
  classify_kept.set_name(kept.name());
  classify_kept.set_within_competence(true);
  auto waiting = commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify_kept);
  EXPECT_EQ(waiting.status().code(), absl::StatusCode::kUnavailable) << waiting.status();
  EXPECT_TRUE(absl::StrContains(waiting.status().message(), "restored from a backup"))
      << waiting.status();
  auto stale = commune.Get(away.name());
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_EQ(stale->owner_unit(), "502-1");  // as the backup has it, for now
  auto again = commune.Transfer(away.name(), "49", "t-again");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable) << again.status();
  // A case registered now is the commune's alone.
  const v1::Case fresh = commune.Create(v1::CASE_KIND_COMPLAINT, "fresh", "502-1");
  v1::ClassifyCaseRequest classify_fresh;
  classify_fresh.set_name(fresh.name());
  classify_fresh.set_within_competence(true);
  auto accepted =
      commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify_fresh);
  EXPECT_TRUE(accepted.ok()) << accepted.status();

  // The district answers: the case it holds is a read-only copy here now.
  ASSERT_TRUE(f.node("502").Start().ok()) << ReadFile(f.node("502").log_path());
  district.Reconnect();
  ASSERT_TRUE(WaitFor(
      [&] { return absl::StrContains(ReadFile(node.log_path()), "event=ownership_healed"); },
      absl::Seconds(30)))
      << ReadFile(node.log_path());
  auto healed = commune.Get(away.name());  // now answered by the owner
  ASSERT_TRUE(healed.ok()) << healed.status();
  EXPECT_EQ(healed->owner_unit(), "502");
  EXPECT_EQ(healed->owner_epoch(), 1);
  v1::ClassifyCaseRequest classify;
  classify.set_name(away.name());
  classify.set_within_competence(true);
  auto not_owner = commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify);
  EXPECT_EQ(not_owner.status().code(), absl::StatusCode::kFailedPrecondition) << not_owner.status();
  // The province never answers: the kept case still waits for it...
  waiting = commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify_kept);
  EXPECT_EQ(waiting.status().code(), absl::StatusCode::kUnavailable) << waiting.status();
  // ...until the unit's head cancels that question (the province is gone
  // for good, say), which counts as "nothing newer there".
  auto outbox = admin::v1::OutboxService::NewStub(node.NewChannel());
  std::string question;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto listed = commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::ListOutboxItems,
                                   admin::v1::ListOutboxItemsRequest(), "viewer");
        if (!listed.ok()) return false;
        bool district_asked = false;
        for (const auto& item : listed->items()) {
          if (!absl::StartsWith(item.key(), "o/")) continue;
          if (item.peer() == "49") question = item.name();
          district_asked |= item.peer() == "502";
        }
        return !question.empty() && !district_asked;
      },
      absl::Seconds(20)));
  admin::v1::CancelOutboxItemRequest cancel;
  cancel.set_name(question);
  auto cancelled =
      commune.Call(outbox.get(), &admin::v1::OutboxService::Stub::CancelOutboxItem, cancel, "head");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  ASSERT_TRUE(WaitFor(
      [&] {
        return commune.Call(commune.cases(), &v1::CaseService::Stub::ClassifyCase, classify_kept)
            .ok();
      },
      absl::Seconds(20)))
      << ReadFile(node.log_path());

  // The district returns the case: accepted as any return.
  v1::ReturnCaseRequest ret;
  ret.set_name(away.name());
  ret.set_reason("Không thuộc thẩm quyền của UBND thành phố");
  ret.set_request_id("r-away");
  auto back = district.Call(district.handoffs(), &v1::HandoffService::Stub::ReturnCase, ret);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(WaitFor([&] { return district.Delivered(back->name()); }, absl::Seconds(30)))
      << ReadFile(f.node("502").log_path());
  auto home = commune.Get(away.name());
  ASSERT_TRUE(home.ok()) << home.status();
  EXPECT_EQ(home->owner_unit(), "502-1");
  EXPECT_EQ(home->owner_epoch(), 2);
  EXPECT_TRUE(commune.Verifies(away.name()));
  EXPECT_EQ(Count(commune.History(away.name()), "TransferCase"), 1);
}

}  // namespace
}  // namespace reception::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 4) {
    fprintf(stderr, "usage: federation_test RECEPTIOND RECEPTION_ROUTING RECEPTIONCTL\n");
    return 2;
  }
  reception::testing::g_receptiond = argv[1];
  reception::testing::g_reception_routing = argv[2];
  reception::testing::g_receptionctl = argv[3];
  return RUN_ALL_TESTS();
}
