// A unit's reception calendar as iCalendar (RFC 5545), generated with
// libical: the head's periodic reception days (the plan's hours) and every
// session (cancelled ones marked CANCELLED), so officers see them in their
// calendar applications.
#ifndef RECEPTION_SERVICES_SCHEDULING_ICAL_EXPORT_H_
#define RECEPTION_SERVICES_SCHEDULING_ICAL_EXPORT_H_

#include <string>
#include <vector>

#include "reception/scheduling/v1/scheduling_service.pb.h"
#include "services/scheduling/schedule_rules.h"

namespace reception::scheduling {

std::string RenderICalendar(const std::string& unit, const v1::ReceptionPlan& plan,
                            const std::vector<PlannedDay>& days,
                            const v1::ListSessionsResponse& sessions);

}  // namespace reception::scheduling

#endif  // RECEPTION_SERVICES_SCHEDULING_ICAL_EXPORT_H_
