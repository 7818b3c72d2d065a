// receptionctl: the command line for reception officers and inspectors.
// Talks to a node over gRPC with the generated stubs; a readable table by
// default, --json for scripts. Each command group is its own file; this one
// holds the dispatch table and the help. `receptionctl COMMAND --help` shows
// one command; exit codes say what happened (cli.h, Exit).
#include <iostream>
#include <string>
#include <vector>

#include "tools/receptionctl/cli.h"

namespace receptionctl {
namespace {

constexpr char kHeader[] = R"(receptionctl: manage citizen reception cases on a node.

Usage: receptionctl [global options] COMMAND [NAME] [options]

Global options (or environment variables):
  --server ADDR     node address          (RECEPTION_SERVER, default 127.0.0.1:50051)
  --ca FILE         CA bundle: talk TLS to a node in mTLS mode (RECEPTION_CA)
  --cert FILE --key FILE   present this client certificate (RECEPTION_CERT, RECEPTION_KEY)
  --token JWT       bearer token from the identity provider (RECEPTION_TOKEN);
  --token-file FILE or read it from a file (RECEPTION_TOKEN_FILE). The token
                    names you, your role and unit; --subject/--role/--unit
                    are then not sent.
  --subject S       your account, development mode (RECEPTION_SUBJECT, default "cli")
  --role R          officer|inspector|head|viewer (RECEPTION_ROLE, default officer)
  --unit CODE       your unit code (RECEPTION_UNIT; required without a token)
  --json            print JSON instead of tables
  --timeout SEC     deadline per call (default 10)

)";

constexpr char kFooter[] =
    R"(Transitions take [--etag E] (fail if the case changed) and [--date YYYY-MM-DD].
NAME is "cases/NUMBER" or just NUMBER.

Exit codes: 0 done; 1 another error; 2 wrong command line (nothing sent);
3 not found; 4 not authenticated or not allowed; 5 the node refused the
input; 6 the state does not allow it (read again); 7 unavailable (retry).
)";

struct Command {
  const char* name;
  const char* usage;  // the help lines of this command
};

// Every command, in the order of the help.
const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"token",
       R"(  token issue --key PEM --kid ID --issuer ISS --audience AUD --subject S --role R --unit CODE [--ttl-minutes N]
            DEVELOPMENT identity provider: print a token signed with a
            private key (EC P-256 -> ES256, RSA -> RS256); offline
  token jwks --key PEM --kid ID
            print the JWKS (public key set) a node's auth.jwt.jwks_file
            holds for that key; offline
)"},
      {"calendar", R"(  calendar derive --calendar-file FILE --year YYYY
            print the year's statutory days off (a provisional `years:` entry
            for the calendar file); offline, no node needed
  calendar check --calendar-file FILE
            how far the file is published, and what is provisional
)"},
      {"create", R"(  create    --kind complaint|denunciation|petition|feedback --channel CHANNEL
            --content TEXT --received YYYY-MM-DD
            [--petitioner "Full name|citizen id|address|phone"]...
            [--round first|second] [--previous cases/N] [--repeats cases/N]
            [--first-decision "document number|YYYY-MM-DD|issued by"]
            (second time: the first-time complaint case, or a first decision
            made outside the system)
            [--anonymous [--letter names-violator,evidence,verifiable] [--evidence-note TEXT]]
            [--forwarded-by BODY] [--representative CITIZEN_ID]...
            [--people N] [--respondent-unit CODE] [--respondent-official NAME]
            [--respondent-position TEXT] [--head-of-unit] [--act-reference REF] [--act-date DATE]
            [--filing-start DATE] [--filing-delay "obstacle|FROM|TO|evidence[|note]"]...
            (complaints: the day the decision was received or the act learned of,
            and legitimate delays: illness natural_disaster hostilities away other)
            [--attachment "name|media/type|size|sha256"]... [--reception-unit CODE]
            [--previously-handled-by BODY] [--request-id ID]
            CHANNEL: in_person mail mailbox forwarded_deputy
            forwarded_fatherland_front forwarded_press forwarded_leader
            online_session portal
)"},
      {"get", R"(  get       NAME
)"},
      {"list", R"(  list      [--state S] [--kind K] [--unit-code U] [--from DATE] [--to DATE]
            [--query TEXT] [--due-before DATE] [--overdue] [--at-risk WORKING_DAYS]
            [--order-by due_date] [--page-size N] [--page-token T] [--all]
            [--subtree] [--within UNIT]
  list --awaiting-decision   cases waiting for this unit's decision on a dispute
  --subtree: also the cases followed from the nodes below (oversight), each
  once, VIA naming the child node it came through; --within UNIT: only cases
  received at UNIT or below
)"},
      {"overdue",
       R"(  overdue   [--kind K]       every case past a statutory due date, earliest first
)"},
      {"complexity",
       R"(  complexity NAME --complexity normal|complex|very_complex --decision REF [--note TEXT]
                             (head; an accepted matter found more complex: longer limit)
)"},
      {"extend",
       R"(  extend    NAME --step handle_letter|accept|transfer|settle --decision REF --days N
                             (head or inspector; a written extension decision)
)"},
      {"deadlines",
       R"(  deadlines preview --kind K --received DATE [--accepted DATE] [--round first|second]
            [--complexity normal|complex|very_complex] [--unit-code U]
)"},
      {"classify", R"(  classify  NAME --competent yes|no [--complexity normal|complex|very_complex]
            [--filing-start DATE] [--filing-delay "obstacle|FROM|TO|evidence[|note]"]...
            [--kind K] [--note TEXT]
            [--letter names-violator,evidence,verifiable|none] [--evidence-note TEXT]
            (an anonymous letter: what it brings; Law on Denunciations Art 25)
)"},
      {"accept", R"(  accept    NAME --notice REF
)"},
      {"refuse",
       R"(  refuse    NAME --ground incapacitated|disruptive|already_settled|out_of_time|no_standing|before_court
            --explanation TEXT [--notice REF]
)"},
      {"guide", R"(  guide     NAME --body COMPETENT_BODY [--note TEXT]
)"},
      {"archive",
       R"(  archive   NAME --reason duplicate|anonymous|unsigned|impersonated|already_guided|other
            [--duplicate-of cases/N] [--note TEXT]
)"},
      {"start-verification", R"(  start-verification NAME [--verifier NAME]
)"},
      {"suspend", R"(  suspend   NAME --reason TEXT --evidence REF [--date FIRST_PAUSED_DAY]
)"},
      {"resume",
       R"(  resume    NAME [--date LAST_PAUSED_DAY]   (inclusive: counting starts again the
            day after; default today; suspend and resume on one day = one day)
)"},
      {"decide",
       R"(  decide    NAME --outcome complaint_right|complaint_wrong|complaint_partly_right|
            denunciation_founded|denunciation_unfounded|denunciation_partly_founded|answered
            --decision REF [--summary TEXT]
)"},
      {"publish", R"(  publish   NAME --method meeting|posting|media --reference REF [--date DATE]
            (a complaint's settlement decision made public)
)"},
      {"close", R"(  close     NAME
)"},
      {"update",
       R"(  update    NAME --reason TEXT [--etag E] [--petitioner "name|id|address|phone" ...]
            [--representative ID ...] [--content TEXT] [--attachment "name|type|size|sha256" ...]
            [--previously-handled-by BODY] [--respondent-official NAME]
            [--respondent-position TEXT] [--act-reference REF] [--act-date DATE]
            Corrects what intake recorded, only the fields given (a repeated option
            replaces the whole list; give every petitioner). Before acceptance all of
            these; after it only the petitioners' addresses and phones. Audited.
)"},
      {"withdraw", R"(  withdraw  NAME --document REF [--partial --part TEXT] [--reason TEXT]
)"},
      {"history", R"(  history   NAME
)"},
      {"verify", R"(  verify    NAME
)"},
      {"reveal", R"(  reveal    NAME --reason TEXT          (inspectors of the owning unit)
)"},
      {"export", R"(  export    --from DATE --to DATE [--output FILE]
)"},
      {"document", R"(  document  NAME KIND [--room rooms/ID] [-o FILE]
            a paper of the procedure as PDF (KIND: receipt, acceptance-notice,
            refusal-notice, guidance-slip, transfer-slip, extension-notice,
            minutes, decision-cover); its first issue is recorded with its
            sha256 in the case history
)"},
      {"lookup", R"(  lookup    NUMBER CODE                  (no credentials needed)
            what a citizen's receipt code tells: state, handling unit, next due
            date, late or not
)"},
      {"report",
       R"(  report    (--month YYYY-MM | --quarter YYYY-QN | --half YYYY-HN | --nine-months YYYY
             | --year YYYY) [--for-unit UNIT] [--csv] [--output FILE]
            figures of the unit and its subtree per unit and in total (quarters
            cut on the rule pack's day, Circular 01/2024)
  report    ... --open FIGURE [--row UNIT]   the cases behind one count of the
            total, a row, or any unit of the subtree (FIGURE: received,
            accepted, settled_on_time, pending_overdue, ...)
)"},
      {"route",
       R"(  route     NAME [--apply] [--request-id ID]   which unit is competent, by which rule;
                            --apply carries out a transfer decision
)"},
      {"transfer",
       R"(  transfer  NAME --to UNIT --reason TEXT [--request-id ID]   hand the case to UNIT's node
)"},
      {"return",
       R"(  return    NAME --reason TEXT [--request-id ID]   send a transferred case back (not competent);
            a second return of the same matter goes to the common parent to decide
)"},
      {"dispute",
       R"(  dispute   NAME --competent UNIT --reason TEXT [--request-id ID]   maintain that UNIT is
            competent: the case goes to the two units' lowest common parent
)"},
      {"resolve",
       R"(  resolve   NAME --competent UNIT --reason TEXT --basis LAW [--request-id ID]   (head of
            the deciding unit) decide the dispute; the case goes to UNIT
)"},
      {"handoffs", R"(  handoffs  [--state pending|delivered] [--peer UNIT]
)"},
      {"handoff", R"(  handoff   ID
)"},
      {"federation",
       R"(  federation                every peer: reachable, last contact, outbox, last error
  federation outbox [--outbox handoffs|scheduling|minutes|subtree_checks] [--peer UNIT] [--dead]
                            what this node owes its peers (subtree_checks: questions for them,
                            o/... after a restore); dead letters were refused for good
  federation retry ITEM     a dead letter back in line (head of the node's unit)
  federation cancel ITEM    give an item up (a handoff cannot be: its case would have no owner)
)"},
      {"room",
       R"(  room create ID [--session S] [--agenda CASE]... [--bridge UNIT[=sip:user@host]]...
  room get NAME | open NAME [--etag E] | close NAME [--etag E] | events NAME [--after N]
  room watch NAME [--after N]               follow the room's events until it closes
  room bridge NAME --host UNIT              (at a bridge point's node) take part in UNIT's room
  room minutes NAME --as P --conclusions TEXT [--place TEXT] [--case CASE]... [--statement P=TEXT]...
                            [--etag E]  (room sign NAME --as P [--etag E] too: fails if it changed)
  room token NAME --participant-role R --site UNIT --for SUBJECT [--ttl SEC]   a join token
  room join NAME --join-token T             (as --subject; prints your participant id)
  room admit|lobby|grant|mute|unmute|remove NAME --as P --target Q   (moderators)
  room revoke|record|stop-record NAME --as P                        (moderators)
  room hand|lower|release|consent|withdraw|sign|leave|heartbeat NAME --as P
)"},
      {"schedule",
       R"(  schedule plan [--opens HH:MM --closes HH:MM] [--day-of-month N]... [--weekday monday]...   show or set the plan
  schedule days --from D --to D           planned regular and periodic days (moved off days off)
  schedule compliance --month YYYY-MM | --quarter YYYY-QN   periodic reception held vs required
  schedule ical --from D --to D           the unit's calendar as iCalendar (RFC 5545)
)"},
      {"session",
       R"(  session create --kind regular|periodic|unscheduled|online --date D --start HH:MM --end HH:MM
                 --presiding WHO [--title T] [--reason R] [--bridge UNIT=CAPACITY]... [--cutoff D] [--request-id ID]
  session get|agenda NAME | list --from D --to D
  session reschedule NAME --date D --start HH:MM --end HH:MM [--cutoff D] [--etag E]
  session cancel NAME --reason R [--etag E]
  session record NAME --presided-by WHO --presiding-role head|deputy|staff --citizens N [--case C]... [--etag E]
)"},
      {"register",
       R"(  register SESSION --name NAME --citizen-id ID [--bridge UNIT] (--case C | --summary TEXT) --request-id ID
  register cancel|checkin REGISTRATION [--citizen-id ID] [--etag E]
)"},
      {"notifications",
       R"(  notifications                           notices for registered citizens (cancelled, moved, moved up)
)"},
      {"units",
       R"(  units list [--parent CODE] [--level province|district|commune|agency] [--as-of D] [--all]
            the administrative units in force (--all: merged ones too), code order
  units get CODE [--as-of D]   one unit: name, level, parent, merge, whether a node serves it
)"},
      {"health",
       R"(  health [--service NAME]   grpc.health.v1 of --server, no identity needed; prints
            SERVING (exit 0) or NOT_SERVING (exit 7): for probes and health checks
)"},
      {"admin",
       R"(  admin backup [--label L]  an online backup of every store and key file of the node,
            under its backup.dir (head of the node's unit, or the node's own certificate)
  admin restore --backup DIR --config FILE
            offline, the node stopped: puts a backup back into the empty data directory
            the configuration names, and its key files where it names them
)"},
  };
  return kCommands;
}

// Which group runs a command.
int (*GroupOf(const std::string& command))(const Args&) {
  static const std::map<std::string, int (*)(const Args&)> kGroups = {
      {"token", TokenCommand},
      {"calendar", CalendarCommand},
      {"route", HandoffsCommand},
      {"transfer", HandoffsCommand},
      {"return", HandoffsCommand},
      {"dispute", HandoffsCommand},
      {"resolve", HandoffsCommand},
      {"handoffs", HandoffsCommand},
      {"handoff", HandoffsCommand},
      {"federation", HandoffsCommand},
      {"room", RoomsCommand},
      {"schedule", ScheduleCommand},
      {"session", ScheduleCommand},
      {"register", ScheduleCommand},
      {"notifications", ScheduleCommand},
      {"health", HealthCommand},
      {"admin", AdminCommand},
      {"units", UnitsCommand}};
  auto it = kGroups.find(command);
  return it == kGroups.end() ? CasesCommand : it->second;
}

void PrintHelp(const Command* only) {
  if (only != nullptr) {
    std::cout << "Usage: receptionctl [global options] " << only->name
              << " ... (global options: receptionctl --help)\n\n"
              << only->usage << kFooter;
    return;
  }
  std::cout << kHeader << "Commands:\n";
  for (const auto& c : Commands()) std::cout << c.usage;
  std::cout << kFooter;
}

}  // namespace
}  // namespace receptionctl

int main(int argc, char** argv) {
  using namespace receptionctl;  // NOLINT: the program's own namespace
  Args a = Parse(argc, argv);
  if (a.command.empty() || a.command == "help") {
    PrintHelp(nullptr);
    return a.command.empty() && !a.Has("help") ? kUsage : kOk;
  }
  const Command* command = nullptr;
  for (const auto& c : Commands()) {
    if (a.command == c.name) command = &c;
  }
  if (command == nullptr) {
    UsageError(absl::StrCat("unknown command \"", a.command, "\""));
  }
  if (a.Has("help")) {
    PrintHelp(command);
    return kOk;
  }
  return GroupOf(a.command)(a);
}
