#include "services/common/authorization.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/common/status.h"

namespace reception {
namespace {

constexpr uint8_t O = RoleBit(Role::kReceptionOfficer);
constexpr uint8_t I = RoleBit(Role::kInspector);
constexpr uint8_t H = RoleBit(Role::kHead);
constexpr uint8_t V = RoleBit(Role::kViewer);
constexpr uint8_t kStaff = O | I | H;
constexpr uint8_t kAnyone = O | I | H | V;
constexpr uint8_t S = static_cast<uint8_t>(Relation::kSame);
constexpr uint8_t B = static_cast<uint8_t>(Relation::kBelow);
constexpr uint8_t A = static_cast<uint8_t>(Relation::kAbove);
constexpr bool kNodes = true;
constexpr bool kNoNodes = false;

#define CASES "reception.cases.v1.CaseService/"
#define HANDOFFS "reception.cases.v1.HandoffService/"
#define ROUTING "reception.routing.v1.RoutingService/"
#define MEDIA "reception.media.v1.MediaService/"
#define SCHED "reception.scheduling.v1.SchedulingService/"
#define ADMIN "reception.admin.v1.OutboxService/"
#define BACKUP "reception.admin.v1.BackupService/"
#define UNITS "reception.units.v1.UnitService/"
#define CASE_FED "reception.federation.v1.CaseFederationService/"
#define SCHED_FED "reception.federation.v1.SchedulingFederationService/"

const std::vector<AccessRule>* BuildTable() {
  return new std::vector<AccessRule>{
      // Cases. A unit below the node (a bridge point without its own node)
      // receives citizens there; deciding on the case is the node's unit's.
      {CASES "CreateCase", kStaff, S | B, kNoNodes,
       "receive a matter (own unit, or a bridge point below it)"},
      {CASES "GetCase", kAnyone, S | B | A, kNodes,
       "read: own unit; below: cases received there; above: oversight"},
      {CASES "ListCases", kAnyone, S | B | A, kNoNodes, "as GetCase"},
      {CASES "GetCaseReport", kAnyone, S | B | A, kNoNodes,
       "figures of the unit and its subtree; below: its own unit and below"},
      {CASES "GetCaseHistory", kAnyone, S | A, kNoNodes, "the audit trail"},
      {CASES "VerifyCaseHistory", kAnyone, S | A, kNoNodes, "check the hash chain"},
      {CASES "UpdateCase", kStaff, S, kNoNodes,
       "correct what intake recorded: staff of the owning unit, audited"},
      {CASES "ClassifyCase", kStaff, S, kNoNodes, "lifecycle acts: staff of the owning unit"},
      {CASES "AcceptCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "RefuseCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "GuideCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "ArchiveCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "StartCaseVerification", I | H, S, kNoNodes, "verification"},
      {CASES "SuspendCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "ResumeCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "DecideCase", H, S, kNoNodes,
       "the head (chairman or head of the agency), every kind: complaints (LC Art 18-21), "
       "denunciations (LD Art 12-15), petitions; inspectors verify and propose"},
      {CASES "CloseCase", kStaff, S, kNoNodes, "lifecycle"},
      {CASES "PublishDecision", kStaff, S, kNoNodes, "publication of the decision"},
      {CASES "WithdrawCase", kStaff, S, kNoNodes, "the citizen's withdrawal, recorded by staff"},
      {CASES "RevealDenouncerIdentity", I, S, kNoNodes, "an inspector of the owning unit, audited"},
      {CASES "ExportReceptionLog", kAnyone, S | A, kNoNodes,
       "the form 03 log (names and IDs): own unit and oversight"},
      {CASES "ExtendCaseDeadline", H, S, kNoNodes,
       "the head who settles the matter decides an extension (LD Art 30); inspectors propose it"},
      {CASES "DeclareCaseComplexity", H, S, kNoNodes,
       "the head's decision that an accepted matter is complex"},
      {CASES "PreviewDeadlines", kAnyone, S | B | A, kNoNodes, "a computation on no record"},
      {CASES "GetCaseDocument", kStaff, S | B, kNoNodes,
       "the papers: staff of the owning unit (a bridge point: of what it received)"},
      {CASES "LookupCaseStatus", 0, 0, kNoNodes,
       "public, without credentials: the receipt code is the proof; rate limited", true},
      // Handoffs.
      {HANDOFFS "TransferCase", kStaff, S, kNoNodes, "hand a case to another unit"},
      {HANDOFFS "ReturnCase", kStaff, S, kNoNodes, "return it"},
      {HANDOFFS "DisputeJurisdiction", kStaff, S, kNoNodes, "ask the common parent to decide"},
      {HANDOFFS "ResolveJurisdiction", H, S, kNoNodes, "the deciding unit's head"},
      {HANDOFFS "GetHandoff", kAnyone, S | A, kNoNodes, "read"},
      {HANDOFFS "ListHandoffs", kAnyone, S | A, kNoNodes, "read"},
      {HANDOFFS "GetFederationStatus", kAnyone, S | A, kNoNodes, "read"},
      // Routing: a dry run for anyone of the unit; applying it is a transfer.
      {ROUTING "RouteCase", kAnyone, S, kNoNodes, "which level is competent (apply: staff)"},
      // Rooms: join tokens and the participant's role in the room are the
      // finer gate; bridge points (below) and oversight (above) take part.
      {MEDIA "CreateRoom", kStaff, S, kNodes, "the host unit's staff or its own node"},
      {MEDIA "GetRoom", kAnyone, S | B | A, kNodes, "room view"},
      {MEDIA "IssueJoinToken", kStaff, S | B, kNodes,
       "host staff; a bridge point for its own site"},
      {MEDIA "JoinRoom", kAnyone, S | B | A, kNodes, "with a join token"},
      {MEDIA "ListRoomEvents", kAnyone, S | B | A, kNodes, "room view"},
      {MEDIA "WatchRoom", kAnyone, S | B | A, kNodes, "room view"},
      {MEDIA "ConnectBridge", kStaff, S, kNoNodes,
       "a bridge point's staff link their node to the host's room"},
      {MEDIA "OpenRoom", kStaff, S, kNodes, "the host unit"},
      {MEDIA "CloseRoom", kStaff, S, kNodes, "the host unit"},
      {MEDIA "LeaveRoom", kAnyone, S | B | A, kNodes, "as the participant"},
      {MEDIA "Heartbeat", kAnyone, S | B | A, kNodes, "as the participant"},
      {MEDIA "AdmitParticipant", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "SendToLobby", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "RaiseHand", kAnyone, S | B | A, kNodes, "as the participant"},
      {MEDIA "GrantFloor", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "ReleaseFloor", kAnyone, S | B | A, kNodes, "as the participant"},
      {MEDIA "RevokeFloor", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "MuteParticipant", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "RemoveParticipant", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "SetRecordingConsent", kAnyone, S | B | A, kNodes, "as the participant"},
      {MEDIA "StartRecording", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "StopRecording", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "UpdateMinutes", kAnyone, S | B | A, kNodes, "as the presiding participant"},
      {MEDIA "SignMinutes", kAnyone, S | B | A, kNodes, "as the participant"},
      // Scheduling.
      {SCHED "SetReceptionPlan", kStaff, S, kNoNodes, "the unit's own plan"},
      {SCHED "GetReceptionPlan", kAnyone, S | B | A, kNoNodes, "read"},
      {SCHED "ListPlannedDays", kAnyone, S | B | A, kNoNodes, "read"},
      {SCHED "CreateSession", kStaff, S, kNoNodes, "the host unit"},
      {SCHED "GetSession", kAnyone, S | B | A, kNoNodes, "read"},
      {SCHED "ListSessions", kAnyone, S | B | A, kNoNodes, "read"},
      {SCHED "RescheduleSession", kStaff, S, kNoNodes, "the host unit"},
      {SCHED "CancelSession", kStaff, S, kNoNodes, "the host unit"},
      {SCHED "RecordSession", kStaff, S, kNoNodes, "the host unit"},
      {SCHED "RegisterCitizen", kStaff, S | B, kNoNodes, "the host or a bridge point"},
      {SCHED "CancelRegistration", kStaff, S | B, kNoNodes, "the host or a bridge point"},
      {SCHED "CheckInCitizen", kStaff, S | B, kNoNodes, "the host or a bridge point"},
      {SCHED "GetSessionAgenda", kAnyone, S | B | A, kNoNodes, "read (registrants masked)"},
      {SCHED "ListNotifications", kAnyone, S | A, kNoNodes, "read"},
      {SCHED "GetComplianceReport", kAnyone, S | A, kNoNodes,
       "the duty report: own unit and oversight"},
      {SCHED "ExportCalendar", kAnyone, S | B | A, kNoNodes, "read"},
      // Operating the node: what it owes other nodes.
      {ADMIN "ListOutboxItems", kAnyone, S | A, kNoNodes,
       "what the node owes its peers: own unit and oversight"},
      {ADMIN "RetryOutboxItem", H, S, kNoNodes, "a dead letter back in line: the unit's head"},
      {ADMIN "CancelOutboxItem", H, S, kNoNodes, "give an item up: the unit's head"},
      {UNITS "GetUnit", kAnyone, S | B | A, kNodes,
       "reference data: anyone of a unit the node's topology relates to it, and nodes"},
      {UNITS "ListUnits", kAnyone, S | B | A, kNodes, "as GetUnit"},
      {BACKUP "CreateBackup", H, S, kNodes,
       "an online backup: the unit's head, or the node itself (its own certificate)"},
      // The internal API (reception.federation.v1): node certificates only.
      {CASE_FED "OfferHandoff", 0, 0, kNodes, "a configured peer, for its own unit"},
      {CASE_FED "GetNodeKey", 0, 0, kNodes, "configured peers"},
      {CASE_FED "AttachCaseMinutes", 0, 0, kNodes,
       "this node's own media service; the room is checked with it"},
      {CASE_FED "ReadCaseFeed", 0, 0, kNodes, "the node of a unit above this one (oversight)"},
      {CASE_FED "WatchCaseFeed", 0, 0, kNodes, "the node of a unit above this one (oversight)"},
      {CASE_FED "FindRelatedCases", 0, 0, kNodes,
       "the node of a unit below this one (province-wide duplicate check)"},
      {CASE_FED "CheckFirstComplaint", 0, 0, kNodes,
       "the node of a unit below this one (a second-time complaint's link)"},
      {CASE_FED "CheckCaseOwners", 0, 0, kNodes,
       "a configured peer (a node restored from a backup asking which cases it still owns)"},
      {SCHED_FED "OfferSessionNotice", 0, 0, kNodes, "the session's host, a configured peer"},
      {SCHED_FED "OfferRegistration", 0, 0, kNodes, "a bridge point's node of the session"},
  };
}

}  // namespace

Relation RelationOf(const Topology& topology, absl::string_view caller_unit,
                    absl::string_view node_unit) {
  if (caller_unit == node_unit) return Relation::kSame;
  if (topology.Find(caller_unit) == nullptr) return Relation::kUnrelated;
  if (topology.IsWithin(caller_unit, node_unit)) return Relation::kBelow;
  if (topology.IsWithin(node_unit, caller_unit)) return Relation::kAbove;
  return Relation::kUnrelated;
}

absl::string_view RelationName(Relation r) {
  switch (r) {
    case Relation::kSame:
      return "same unit";
    case Relation::kBelow:
      return "a unit below";
    case Relation::kAbove:
      return "an ancestor (oversight)";
    case Relation::kUnrelated:
      return "an unrelated unit";
  }
  return "unknown";
}

const std::vector<AccessRule>& AccessTable() {
  static const std::vector<AccessRule>* table = BuildTable();
  return *table;
}

const AccessRule* FindAccessRule(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  for (const auto& rule : AccessTable()) {
    if (method == rule.method) return &rule;
  }
  return nullptr;
}

bool IsInfrastructureMethod(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  return absl::StartsWith(method, "grpc.health.v1.Health/") ||
         absl::StartsWith(method, "grpc.reflection.v1alpha.ServerReflection/") ||
         absl::StartsWith(method, "grpc.reflection.v1.ServerReflection/");
}

absl::Status Authorize(absl::string_view method, const Principal& p, const Topology& topology,
                       absl::string_view node_unit) {
  absl::ConsumePrefix(&method, "/");
  const AccessRule* rule = FindAccessRule(method);
  if (rule == nullptr) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat("no authorisation rule for ", method.substr(0, 96),
                                                 ": refused by default")),
        "NO_ACCESS_RULE");
  }
  const absl::string_view name = method.substr(method.find('/') + 1);
  // The internal API is for nodes whatever the table says: a person's or a
  // department's token never reaches it.
  if (absl::StartsWith(method, "reception.federation.") && p.role != Role::kNode) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat(
            name,
            " is part of the internal node-to-node API (reception.federation.v1): node "
            "certificates only, never a bearer token")),
        "INTERNAL_API_NODES_ONLY");
  }
  if (rule->open) return absl::OkStatus();
  if (p.role == Role::kNode) {
    if (rule->nodes) return absl::OkStatus();
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          name, " is not a node-to-node method; role node may not call it")),
                      "NOT_A_NODE_METHOD");
  }
  if ((rule->people_roles & RoleBit(p.role)) == 0) {
    return WithReason(
        absl::PermissionDeniedError(
            rule->people_roles == 0
                ? absl::StrCat(name, " is for nodes only (node-to-node, with a node certificate)")
                : absl::StrCat(name, " is not allowed to role ", RoleName(p.role))),
        "ROLE_NOT_ALLOWED");
  }
  const Relation relation = RelationOf(topology, p.unit_code, node_unit);
  if ((rule->relations & static_cast<uint8_t>(relation)) == 0) {
    return WithReason(
        absl::PermissionDeniedError(absl::StrCat(
            name, " on the node of unit ", node_unit, " is not allowed to ", RoleName(p.role),
            "s of ", RelationName(relation), " (", p.unit_code.substr(0, 32), ")")),
        "UNIT_NOT_ALLOWED");
  }
  return absl::OkStatus();
}

std::string AccessTableMarkdown() {
  auto roles = [](const AccessRule& r) {
    if (r.open) return std::string("anyone, without credentials");
    std::string out;
    for (auto [bit, name] :
         {std::pair{O, "officer"}, {I, "inspector"}, {H, "head"}, {V, "viewer"}}) {
      if (r.people_roles & bit) absl::StrAppend(&out, out.empty() ? "" : ", ", name);
    }
    if (r.nodes) absl::StrAppend(&out, out.empty() ? "" : ", ", "node");
    return out;
  };
  auto relations = [](const AccessRule& r) {
    if (r.open) return std::string("any");
    if (r.people_roles == 0) return std::string("(peer checked by the method)");
    std::string out;
    for (auto [bit, name] : {std::pair{S, "same"}, {B, "below"}, {A, "above"}}) {
      if (r.relations & bit) absl::StrAppend(&out, out.empty() ? "" : ", ", name);
    }
    return out;
  };
  std::string md = "| Method | Roles | Units (people) | Why |\n|---|---|---|---|\n";
  for (const auto& r : AccessTable()) {
    absl::StrAppend(&md, "| `", r.method, "` | ", roles(r), " | ", relations(r), " | ", r.why,
                    " |\n");
  }
  return md;
}

}  // namespace reception
