// Oversight, the case service's side: what of a case leaves this node (a
// redacted projection), the change feed served as pages to the node of an
// ancestor unit, and the replicas this node holds of the nodes it follows,
// applied page by page with a durable checkpoint per followed node.
//
// Applying is idempotent: a replica is replaced only by a higher (owner
// epoch, version), and a page is applied together with its checkpoint, so
// a page delivered twice or a crash between pages applies nothing twice and
// skips nothing. A case handed between two followed nodes is held once,
// with its current owner. Replicas are republished in this node's own feed
// with their origin kept, so a province follows its districts and sees its
// communes through them.
#ifndef RECEPTION_SERVICES_CASE_CASE_REPLICAS_H_
#define RECEPTION_SERVICES_CASE_CASE_REPLICAS_H_

#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "reception/federation/v1/case_federation.pb.h"
#include "services/case/case_duplicates.h"
#include "services/case/case_records.h"
#include "services/case/subtree_board.h"

namespace reception {

class CaseReplicas {
 public:
  // `board` learns of each replica applied, once durable (may be null).
  CaseReplicas(const CaseDeps& deps, const CaseRecords& records, const CaseDuplicates& duplicates,
               SubtreeBoard* board = nullptr)
      : d_(deps), records_(records), duplicates_(duplicates), board_(board) {}

  // What leaves this node of a case: the case as served (a protected
  // identity is never in it) without citizen IDs, addresses, phones,
  // representatives' IDs, attachment file names or minutes text.
  static cases::v1::Case Project(cases::v1::Case c);

  // OK when `p` may read this node's feed: the node of a unit above this
  // node's (in the topology); PERMISSION_DENIED for anyone else.
  absl::Status CheckFollower(const Principal& p) const;

  // The feed after position `after`: at most `limit` positions examined, a
  // position left out when its case changed again since (a later position
  // carries it). Committed state only.
  absl::StatusOr<federation::v1::CaseFeedPage> ReadPage(uint64_t after, int limit) const;

  // Removes from the feed, after position `after`, up to `limit` positions
  // examined, every position whose case has changed again since: a later
  // position carries it, so no follower, however far behind, needs it.
  // The feed then holds about one position per case, and a new follower
  // reading it from the start reads each case once (the bootstrap
  // snapshot). Returns the last position examined and how many were
  // removed. Repeat from that position until it stops moving.
  struct Compaction {
    uint64_t last = 0;
    int removed = 0;
  };
  absl::StatusOr<Compaction> CompactFeed(uint64_t after, int limit) const;

  // How far this node has applied the feed of the node of `via`.
  absl::StatusOr<cases::storage::FollowCheckpoint> Checkpoint(const std::string& via) const;

  // Checks a page from `via`'s feed as strictly as intake (positions after
  // the checkpoint and in order, origins within `via`'s subtree, well-formed
  // cases), redacts it again, and applies it with the new checkpoint in one
  // durable write. `done` gets the number of replicas written.
  void Apply(const std::string& via, federation::v1::CaseFeedPage page,
             absl::AnyInvocable<void(absl::StatusOr<int>)> done) const;

  // The replica of case `number`, committed (without a txn) or as the
  // writer sees it.
  absl::StatusOr<std::optional<cases::storage::ReplicaRecord>> Load(
      const WriteTxn* txn, const std::string& number) const;

  // What this node knows of case `number`: its own record or its replica,
  // whichever is newer (a case handed up has both); nullopt for neither.
  // `from_replica` (optional) says which. With a txn: as the writer sees it.
  absl::StatusOr<std::optional<cases::v1::Case>> Newest(const WriteTxn* txn,
                                                        const std::string& number,
                                                        bool* from_replica = nullptr) const;

  // Every committed replica, in number order; stops at the first error.
  absl::Status ForEach(const std::function<absl::Status(const cases::v1::Case&)>& fn) const;

 private:
  absl::Status CheckPage(const std::string& via, const cases::storage::FollowCheckpoint& cp,
                         const federation::v1::CaseFeedPage& page) const;

  const CaseDeps& d_;
  const CaseRecords& records_;
  const CaseDuplicates& duplicates_;
  SubtreeBoard* board_;
};

// True when `a` comes after `b`: a higher owner epoch, then a higher version.
bool NewerThan(const cases::v1::Case& a, const cases::v1::Case& b);

}  // namespace reception

#endif  // RECEPTION_SERVICES_CASE_CASE_REPLICAS_H_
