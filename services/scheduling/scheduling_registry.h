// A node's reception calendar, durable and transport-free: its plan, the
// sessions it hosts (with their registrations, queue numbers and waiting
// lists), copies of the sessions its unit takes part in as a bridge, the
// notices for citizens, and an outbox of what other nodes must learn
// (sessions to their bridges, registrations taken at a bridge to the host).
//
// Every change runs on the store's single writer thread: checked and applied
// to the in-memory state there, written in the same group commit, answered
// once durable. State is loaded from the store at start.
#ifndef RECEPTION_SERVICES_SCHEDULING_SCHEDULING_REGISTRY_H_
#define RECEPTION_SERVICES_SCHEDULING_SCHEDULING_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "reception/federation/v1/scheduling_federation.pb.h"
#include "reception/scheduling/v1/scheduling_service.pb.h"
#include "services/calendar/working_calendar.h"
#include "services/common/clock.h"
#include "services/common/identity_vault.h"
#include "services/common/outbox.h"
#include "services/common/principal.h"
#include "services/common/rule_book.h"
#include "services/common/store.h"
#include "services/common/topology.h"
#include "services/scheduling/storage.pb.h"

namespace reception::scheduling {

template <typename T>
using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;

class SchedulingRegistry {
 public:
  struct Deps {
    Store* store = nullptr;
    const WorkingCalendar* calendar = nullptr;
    const RuleBook* rules = nullptr;
    const Topology* topology = nullptr;
    const Clock* clock = nullptr;
    std::string unit_code;
    std::set<std::string> peers;  // federation peers (bridges and hosts reachable)
    // Seals registrations' names and citizen IDs at rest. Required.
    const IdentityVault* vault = nullptr;
    // Sends one outbox item to its peer (a notice to a bridge, a
    // registration to the host) and answers exactly once; the answer to a
    // registration carries the host's Registration, serialized. Unset: every
    // item waits (the peer is "unreachable").
    std::function<void(const internal::OutboxItem& item,
                       absl::AnyInvocable<void(Outbox::Answer)> answer)>
        send;
    // The outbox's backoff (federation retry settings).
    absl::Duration retry_initial = absl::Milliseconds(200);
    absl::Duration retry_max = absl::Seconds(30);
  };
  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<SchedulingRegistry>> Open(Deps deps);

  // Plan (staff of this unit).
  void SetPlan(const Principal& p, v1::ReceptionPlan plan, Callback<v1::ReceptionPlan> done);
  v1::ReceptionPlan Plan() const;
  absl::StatusOr<v1::ListPlannedDaysResponse> ListPlannedDays(
      const v1::ListPlannedDaysRequest& r) const;

  // Sessions hosted here (staff of this unit).
  void CreateSession(const Principal& p, const v1::CreateSessionRequest& r,
                     Callback<v1::Session> done);
  void RescheduleSession(const Principal& p, const v1::RescheduleSessionRequest& r,
                         Callback<v1::Session> done);
  void CancelSession(const Principal& p, const v1::CancelSessionRequest& r,
                     Callback<v1::Session> done);
  void RecordSession(const Principal& p, const v1::RecordSessionRequest& r,
                     Callback<v1::Session> done);
  absl::StatusOr<v1::Session> GetSession(const std::string& name) const;
  absl::StatusOr<v1::ListSessionsResponse> ListSessions(const v1::ListSessionsRequest& r) const;

  // Registrations: at the host, or at a bridge's node for a session it
  // knows (kept PENDING and delivered to the host through the outbox).
  void RegisterCitizen(const Principal& p, const v1::RegisterCitizenRequest& r,
                       Callback<v1::Registration> done);
  void CancelRegistration(const Principal& p, const v1::CancelRegistrationRequest& r,
                          Callback<v1::Registration> done);
  void CheckInCitizen(const Principal& p, const v1::CheckInCitizenRequest& r,
                      Callback<v1::Registration> done);
  // Who registered is shown to the staff of the host unit and of each
  // item's bridge point; a protected registration (identity_protected)
  // shows nobody else more than its queue number and state.
  absl::StatusOr<v1::SessionAgenda> Agenda(const Principal& p, const std::string& session) const;
  // A registration as people see it: the citizen ID masked.
  static v1::Registration ForPeople(v1::Registration reg);
  // A registration's etag: a hash of what it is now (its state, queue
  // number, waiting place...), so any change gives another.
  static std::string RegistrationEtag(const v1::Registration& reg);
  // ABORTED (ETAG_MISMATCH) when `etag` is set and `reg` is no longer what
  // it named.
  static absl::Status CheckRegistrationEtag(const v1::Registration& reg, const std::string& etag);
  absl::StatusOr<v1::ListNotificationsResponse> Notifications(
      const v1::ListNotificationsRequest& r) const;

  // Reports and feeds.
  absl::StatusOr<v1::ComplianceReport> Compliance(const v1::GetComplianceReportRequest& r) const;
  absl::StatusOr<std::string> ExportCalendar(const v1::ExportCalendarRequest& r) const;

  // Federation. At a bridge: the host's session (newer versions replace
  // older). At the host: a bridge's registration (idempotent by request id;
  // a later state of it, cancelled or checked in, is applied once).
  void ApplyNotice(const Principal& p, const federation::v1::OfferSessionNoticeRequest& r,
                   Callback<int64_t> done);
  void ApplyOffer(const Principal& p, const federation::v1::OfferRegistrationRequest& r,
                  Callback<v1::Registration> done);

  // What this node owes its peers (session notices to bridges,
  // registrations to hosts), in the shared outbox (services/common/outbox.h):
  // the module starts its worker; operators list, retry and cancel there.
  Outbox* outbox() const { return outbox_.get(); }
  // An outbox item as it is sent: a notice with the session as it is
  // durably now (and that bridge's registrations), a registration with its
  // personal data opened.
  absl::StatusOr<internal::OutboxItem> ToSend(const Outbox::Item& item) const;

  // Online sessions whose media room must be created or closed.
  struct RoomWork {
    v1::Session session;
    bool create = false;  // else close
  };
  std::vector<RoomWork> RoomWorkToDo() const;
  void RoomDone(const std::string& session_name, bool created, const std::string& room,
                const std::string& problem);

  // Sessions by (kind, state), lower-case names (for the metrics).
  std::map<std::pair<std::string, std::string>, int> SessionCounts() const;

  // Called after each durable change (wakes the module's room worker).
  void SetListener(std::function<void()> listener) { listener_ = std::move(listener); }

 private:
  explicit SchedulingRegistry(Deps deps);
  // Reads the plan, sessions and notifications.
  absl::Status Load();
  using Mutation = absl::AnyInvocable<absl::Status(internal::StoredSession& s, WriteTxn& txn)>;
  // Applies `fn` to a copy of the stored session on the writer thread, then
  // keeps and writes it (and whatever `fn` put in the txn).
  // `etag` (optional): the caller's Session.etag; ABORTED when the session
  // changed since.
  void Mutate(const std::string& name, Mutation fn, Callback<internal::StoredSession> done,
              const std::string& etag = "");
  absl::Status CheckStaff(const Principal& p) const;
  // After a durable change: wake the outbox and the listener.
  void Changed() {
    outbox_->Kick();
    if (listener_) listener_();
  }
  // Writes `s` (writer thread, in `txn`) and publishes it to readers once
  // the write is durable.
  // The session's and each registration's etag, as served.
  static void SetEtags(internal::StoredSession& s);
  // Writes `s` (its etags set first, on `s` itself) and publishes it once
  // durable.
  void Keep(WriteTxn& txn, internal::StoredSession& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A stored session as written to disk (registrants sealed) and back.
  std::string ForDisk(const internal::StoredSession& s) const;
  absl::Status FromDisk(internal::StoredSession& s) const;
  std::vector<struct Booking> BookingsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The outcome of a delivery, in the write that removes it from the outbox:
  // the host's answer to a registration, or its refusal, recorded here.
  absl::Status Settle(const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn);
  // Moves items of the outbox format before the shared outbox into it.
  absl::Status MigrateOldOutbox();
  // Queues a notice of `s` for each federated bridge.
  void QueueNotices(const internal::StoredSession& s, WriteTxn& txn);
  // Queues a registration taken (or changed) here for its session's host.
  void QueueOffer(const internal::StoredSession& s, const v1::Registration& reg,
                  const std::string& request, WriteTxn& txn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(WriteTxn& txn, const v1::Registration& reg, const std::string& kind,
              const std::string& message);
  // Waiting list of a bridge moves up into freed seats.
  void Promote(internal::StoredSession& s, const std::string& bridge, WriteTxn& txn);
  void Renumber(internal::StoredSession& s, const std::string& bridge) const;
  absl::Status Admit(internal::StoredSession& s, v1::Registration& reg, absl::Time taken) const;

  Deps d_;
  rocksdb::ColumnFamilyHandle* plan_cf_;
  rocksdb::ColumnFamilyHandle* sessions_cf_;
  rocksdb::ColumnFamilyHandle* outbox_cf_;
  rocksdb::ColumnFamilyHandle* notices_cf_;
  mutable absl::Mutex mu_;
  v1::ReceptionPlan plan_ ABSL_GUARDED_BY(mu_);
  // Durable before visible: the writer's sessions (every accepted change,
  // read and changed only on the store's writer thread), and what readers
  // see: each change published once its write is durable (Keep).
  std::map<std::string, internal::StoredSession> sessions_ ABSL_GUARDED_BY(mu_);  // by name
  std::map<std::string, internal::StoredSession> published_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> create_requests_ ABSL_GUARDED_BY(mu_);  // request id -> name
  std::unique_ptr<Outbox> outbox_;
  std::vector<v1::Notification> notifications_ ABSL_GUARDED_BY(mu_);
  uint64_t next_notice_ = 1;  // writer thread
  std::function<void()> listener_;
};

}  // namespace reception::scheduling

#endif  // RECEPTION_SERVICES_SCHEDULING_SCHEDULING_REGISTRY_H_
