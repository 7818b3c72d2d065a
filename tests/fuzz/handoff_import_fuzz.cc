// The handoff import path: what a node accepts from a peer that offers it a
// case (OfferHandoff), with hostile offers.
//
// Input: byte 0 picks the offer (a complaint or a named denunciation, built
// once by a real source node and sealed for this node's key), whether the
// rest is merged into it or parsed alone, and the caller (the sending peer,
// a unit that is no peer, a person); the rest is OfferHandoffRequest wire
// bytes.
//
// Invariants: no crash or sanitizer report; a refusal is never INTERNAL,
// UNKNOWN or DATA_LOSS; an imported case has a valid audit chain, and is
// protected exactly when it is a denunciation with a named denouncer.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/fuzz/fuzz_world.h"

namespace reception::fuzz {
namespace {

struct World {
  CaseNode source{"48", {"48-1"}};
  CaseNode destination{"48-1", {"48"}};
  federation::v1::OfferHandoffRequest offers[2];
};

World& Get() {
  static World* w = [] {
    auto* w = new World;
    const Principal officer{"officer.lan", Role::kReceptionOfficer, "48"};
    for (int i = 0; i < 2; ++i) {
      auto c = Run<cases::v1::Case>([&](auto cb) {
        w->source.registry().CreateCase(officer, ValidCase(absl::StrCat("offer-", i), i == 1),
                                        std::move(cb));
      });
      Require(c.ok(), "creating the offered case", c.status());
      cases::v1::TransferCaseRequest t;
      t.set_name(c->name());
      t.set_destination_unit("48-1");
      t.set_reason("Thuộc thẩm quyền của UBND phường");
      t.set_request_id(absl::StrCat("offer-transfer-", i));
      auto h = Run<cases::v1::Handoff>(
          [&](auto cb) { w->source.registry().TransferCase(officer, t, std::move(cb)); });
      Require(h.ok(), "transferring", h.status());
      auto offer =
          w->source.registry().BuildOffer(std::string(absl::StripPrefix(h->name(), "handoffs/")),
                                          w->destination.node_key().public_key());
      Require(offer.ok(), "building the offer", offer.status());
      w->offers[i] = *std::move(offer);
    }
    return w;
  }();
  return *w;
}

const Principal kCallers[] = {
    {"node-48", Role::kNode, "48"},
    {"node-48-2", Role::kNode, "48-2"},
    {"officer.ward", Role::kReceptionOfficer, "48-1"},
    {"node-48-1", Role::kNode, "48-1"},
};

}  // namespace
}  // namespace reception::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reception;
  using namespace reception::fuzz;
  if (size < 1) return 0;
  World& w = Get();
  federation::v1::OfferHandoffRequest r = w.offers[data[0] & 1];
  if ((data[0] >> 1) & 1) r.Clear();
  if (!r.MergeFromString(std::string(reinterpret_cast<const char*>(data) + 1, size - 1))) return 0;
  const Principal& caller = kCallers[(data[0] >> 2) & 3];
  auto out = Run<federation::v1::OfferHandoffResponse>(
      [&](auto cb) { w.destination.registry().ImportHandoff(caller, r, std::move(cb)); });
  RequireClientError(out.status(), "ImportHandoff");
  if (!out.ok()) return 0;
  const Principal head{"chairman", Role::kHead, "48-1"};
  cases::v1::GetCaseRequest get;
  get.set_name(r.case_().name());
  auto imported = w.destination.registry().GetCase(head, get);
  Require(imported.ok(), "reading the imported case", imported.status());
  const bool named_denouncer =
      imported->kind() == cases::v1::CASE_KIND_DENUNCIATION && !imported->anonymous();
  Require(imported->identity_protected() == named_denouncer, "protection of the imported case");
  cases::v1::VerifyCaseHistoryRequest v;
  v.set_name(r.case_().name());
  auto verified = w.destination.registry().VerifyCaseHistory(head, v);
  Require(verified.ok() && verified->valid(), "the imported audit chain", verified.status());
  return 0;
}
