"""Demo PDSA cycles: ramps of 3–6 small tests with adopt / adapt / abandon decisions.

`seed(context)` uses context["projects"] ({title: Project}), context["change_ideas"]
({text: ChangeIdea}) and context["measures"] ({name: Measure}) from the earlier seeders.
Projects are found by a word in their title (falls, sepsis, violence); a change idea that is
not there yet is created on the project. Cycles are written through pdsa.services as the
project lead, so access, screening and numbering rules hold. Dates fit the demo data period
(the ramps end where the measure charts show the change). Idempotent: a change idea that
already has cycles is left alone. Run it after measures.demo, which makes the
driver diagrams' change ideas; otherwise this seeder adds its own change ideas first.
"""

from __future__ import annotations

import datetime as dt

from measures.models import Measure
from pdsa import services
from pdsa.models import Cycle
from projects.models import ChangeIdea, Project

FALLS_OUTCOME = "Inpatient falls per 1,000 occupied bed days"
FALLS_PROCESS = "Patients with a falls risk assessment within 6 hours"
SEPSIS_OUTCOME = "Patients with sepsis given antibiotics within one hour"
SEPSIS_PROCESS = "Median minutes from arrival to antibiotics"
RESTRAINT = "Incidents of restraint"
MUTUAL_HELP = "Patient-days with the mutual help meeting attended"


def _c(objective, prediction, who, data, done, what, results, learning, decision, nxt, **kw):
    return dict(
        objective=objective,
        prediction=prediction,
        who_what_where_when=who,
        data_to_collect=data,
        carried_out_as_planned=done,
        what_happened=what,
        results=results,
        learning=learning,
        decision=decision,
        next_steps=nxt,
        **kw,
    )


# (project keyword, [idea text, aliases already made by other seeders], start, measures, cycles)
RAMPS = [
    (
        "falls",
        ["Intentional rounding every 2 hours"],
        dt.date(2025, 2, 3),
        [FALLS_OUTCOME],
        [
            _c("Test 2-hourly intentional rounding in bay 1 for one day shift.",
               "Call-bell use will drop and no patient in the bay will fall.",
               "One HCA, bay 1 (6 beds), Tuesday day shift, using the rounding prompt card.",
               "Rounds completed on time; call bells pressed; falls in the bay.",
               "yes", "Nine of ten rounds were done on time. The HCA was called away once.",
               "Call bells fell from 14 to 6 on a comparable day; no falls, as predicted.",
               "Patients liked being asked about the toilet; the card was easy to use.",
               "adapt", "Try it for a whole week in bay 1, on days and nights."),
            _c("Run 2-hourly rounding in bay 1 for a week, days and nights.",
               "At least 80% of rounds on time; fewer falls than the previous week.",
               "All HCAs in bay 1 for seven days; nurse in charge checks the chart.",
               "Rounds on time each shift; falls in bay 1 against the week before.",
               "partly", "Nights managed 60% of rounds: only one HCA on the ward.",
               "Days 88% on time, nights 60%. One fall (nights) against three the week before.",
               "Nights need a different pattern: 2-hourly wakes patients who are asleep.",
               "adapt", "On nights, round on patients who are awake; check sleepers by sight."),
            _c("Test the night-time variation (awake patients only) on bays 1 and 2.",
               "Rounds on time on nights will rise above 80% without more complaints about "
               "sleep.",
               "Night HCAs on bays 1 and 2 for two weeks.",
               "Night rounds on time; patient comments about sleep; falls.",
               "yes", "Night rounds were easier to keep up; no complaints about sleep.",
               "Night rounds 85% on time. Falls in bays 1–2: 1 in two weeks (was 4).",
               "The variation works on nights. Ready to spread to the whole ward.",
               "adopt", "Roll out to the whole ward; add rounding to the safety huddle."),
            _c("Spread rounding to the whole of Ward 7 for a month, both patterns.",
               "Rounds on time above 80% on every bay; falls below 6 per 1,000 bed days.",
               "All HCAs on Ward 7; ward manager audits the rounding charts weekly.",
               "Rounds on time per bay; monthly falls rate on the run chart.",
               "partly", "Bays 3 and 4 started a week late: charts were not printed.",
               "", "", "", ""),
        ],
    ),
    (
        "falls",
        ["Falls safety huddle at handover", "Falls huddle introduced"],
        dt.date(2025, 6, 2),
        [FALLS_OUTCOME, FALLS_PROCESS],
        [
            _c("Try a 5-minute falls huddle at the morning handover, once.",
               "Staff will name every patient at high risk of falling in under 5 minutes.",
               "Nurse in charge leads, at the nurses' station, Monday 07:30.",
               "Time taken; high-risk patients named against the risk assessments.",
               "yes", "Huddle took 7 minutes; the nurse in charge read from the whiteboard.",
               "7 of 9 high-risk patients named (prediction: all). Took 7 minutes, not 5.",
               "The whiteboard was out of date; the risk column needs updating at night.",
               "adapt", "Update the whiteboard at 06:00 and use a printed list of high risk."),
            _c("Huddle every morning for a week with a printed high-risk list.",
               "All high-risk patients named each day; huddle under 5 minutes.",
               "Nurse in charge each morning, Ward 7, one week.",
               "Time taken; patients named; staff feedback at the end of the week.",
               "yes", "Held on 6 of 7 days (missed Sunday: short staffed).",
               "All high-risk patients named on 5 of 6 days; average 4 minutes.",
               "Staff said the list helped bank and agency staff most.",
               "adapt", "Add the evening handover and give agency staff the list on arrival."),
            _c("Add the evening huddle for two weeks.",
               "Evening huddles will run as well as morning ones.",
               "Nurse in charge on each shift, Ward 7, two weeks.",
               "Huddles held; patients named; falls on the ward.",
               "partly", "Evening huddles slipped when admissions arrived at 19:30.",
               "Mornings 14/14 held, evenings 10/14. Two falls in the fortnight (was 5).",
               "Move the evening huddle to 19:00, before the admissions arrive.",
               "adapt", "Evening huddle at 19:00; make it part of the handover sheet."),
            _c("Make the huddle part of the handover sheet, both shifts, for a month.",
               "Huddles held on 90% of shifts and falls will stay below 6 per 1,000 bed days.",
               "Ward manager audits the handover sheet weekly.",
               "Huddles held; monthly falls rate on the run chart.",
               "yes", "Held on 55 of 60 shifts. New staff picked it up quickly.",
               "92% of shifts held. Falls rate 5.1 per 1,000 bed days (before: about 8).",
               "It works and costs little time; it needs to stay on the handover sheet.",
               "adopt", "Adopt as standard on Ward 7; share with Wards 8 and 9."),
        ],
    ),
    (
        "falls",
        ["Bed-rail assessment"],
        dt.date(2025, 9, 1),
        [],
        [
            _c("Test a bed-rail assessment form for new admissions on one shift.",
               "It will take under 3 minutes and change the decision for some patients.",
               "Two staff nurses, admissions on a Wednesday late shift.",
               "Time to complete; decisions changed.",
               "yes", "Four admissions assessed; each took 6–8 minutes.",
               "Took over twice as long as predicted; one decision changed.",
               "Half the form repeats the falls risk assessment.",
               "adapt", "Cut the form to the four questions that are not asked elsewhere."),
            _c("Test the shortened four-question form for three days.",
               "It will take under 3 minutes; decisions will change for 1 in 5 patients.",
               "Staff nurses on all shifts, new admissions, three days.",
               "Time to complete; decisions changed.",
               "yes", "Eleven admissions assessed in about 3 minutes each.",
               "Time as predicted; no decision changed in 11 patients.",
               "Staff already make the right bed-rail decision; the form adds little.",
               "adapt", "Try it only for patients with delirium, where decisions are harder."),
            _c("Use the form only for patients with delirium, for two weeks.",
               "Decisions will change for at least a third of these patients.",
               "Staff nurses; patients with a positive 4AT; two weeks.",
               "Decisions changed; falls from bed.",
               "yes", "Five patients assessed.",
               "One decision changed in five; no falls from bed before or after.",
               "Not worth the time: the falls risk assessment already covers it.",
               "abandon", "Stop this form; add one bed-rail question to the falls assessment."),
        ],
    ),
    (
        "sepsis",
        ["Sepsis trolley in resus", "Sepsis trolley in resus, checked daily"],
        dt.date(2025, 2, 10),
        [SEPSIS_PROCESS],
        [
            _c("Put a stocked sepsis trolley in resus for one day.",
               "Staff will find antibiotics and blood culture bottles in under a minute.",
               "ED nurse in charge; resus; one weekday.",
               "Time from decision to having the antibiotic in hand, for each patient.",
               "yes", "Three sepsis patients; the trolley was used for all three.",
               "Antibiotic in hand in 40–70 seconds (was 5–8 minutes from pharmacy).",
               "Two items ran out by evening: it needs restocking.",
               "adapt", "Add a daily checklist and restock at the 08:00 safety brief."),
            _c("Run the trolley for two weeks with a daily checklist.",
               "The checklist will be done on 12 of 14 days and nothing will run out.",
               "Resus nurse each morning; two weeks.",
               "Checklist done; items missing; minutes to antibiotics.",
               "yes", "Checklist signed on 13 of 14 days.",
               "Nothing ran out. Median minutes to antibiotics 71 (was 86).",
               "A named owner each day made the difference.",
               "adapt", "Put a second trolley in majors, where a third of sepsis patients are."),
            _c("Add a second trolley in majors for two weeks.",
               "Minutes to antibiotics in majors will fall as they did in resus.",
               "Majors nurse in charge checks it each morning; two weeks.",
               "Checklist done; minutes to antibiotics in majors.",
               "yes", "The majors trolley was used for eight patients.",
               "Median minutes in majors 68 (was 90). Checklist done 14 of 14 days.",
               "Same effect as in resus.",
               "adopt", "Keep both trolleys; add them to the ED daily checks."),
        ],
    ),
    (
        "sepsis",
        ["Nurse-initiated antibiotics PGD",
         "Nurse-initiated antibiotics (patient group direction)"],
        dt.date(2025, 5, 12),
        [SEPSIS_OUTCOME, SEPSIS_PROCESS],
        [
            _c("Test the draft patient group direction with two trained nurses on one shift.",
               "Nurses will give antibiotics within 30 minutes of a red flag.",
               "Two band 6 nurses who completed the PGD training; one day shift.",
               "Minutes from red flag to antibiotics; doctor review time.",
               "yes", "Two patients treated under the PGD; both went smoothly.",
               "Antibiotics at 22 and 28 minutes, as predicted.",
               "Doctors were happy; the pharmacy sign-off sheet was confusing.",
               "adapt", "Simplify the sign-off sheet; test for a week with all trained nurses."),
            _c("Use the PGD for a week with all trained nurses.",
               "90% of red-flag patients will get antibiotics within an hour.",
               "All PGD-trained nurses, ED, one week.",
               "Proportion within the hour; any patient given antibiotics without infection.",
               "partly", "Two nights had no trained nurse on shift.",
               "Days 95% within the hour, nights 60%. No harm found at 48-hour review.",
               "The PGD works; coverage at night is the gap.",
               "adapt", "Train four more nurses so every shift has one."),
            _c("Cover every shift with a PGD-trained nurse for a month.",
               "Antibiotics within the hour will reach 85% and stay there.",
               "ED rota manager ensures one trained nurse per shift.",
               "Monthly proportion within the hour (P chart); balancing: no infection found.",
               "yes", "Every shift covered except one sickness night.",
               "86% within the hour; no rise in antibiotics with no infection found.",
               "Ready to adopt. Watch the balancing measure each month.",
               "adopt", "Adopt; refresher training every six months."),
        ],
    ),
    (
        "violence",
        ["Safewards calm-down methods"],
        dt.date(2025, 3, 3),
        [RESTRAINT],
        [
            _c("Offer a calm-down box (music, weighted blanket, stress ball) on one shift.",
               "Patients who are distressed will try it before PRN medication is offered.",
               "Two nurses on Willow Ward, late shift.",
               "Times offered, used, and PRN given afterwards.",
               "yes", "Offered four times; used three times.",
               "PRN needed once in three uses; prediction held.",
               "Patients chose music most; the box needs to be easy to reach.",
               "adapt", "Keep the box at the nurses' station; test for a week on all shifts."),
            _c("Offer calm-down methods on every shift for a week.",
               "Restraint incidents will fall compared with the previous week.",
               "All shifts, Willow Ward, one week.",
               "Offers, uses, PRN, restraint incidents.",
               "yes", "Used 15 times in the week; staff say it starts conversations.",
               "Restraints 1 (previous week 4). PRN after use in 4 of 15.",
               "Works best when offered early, when staff notice the first signs.",
               "adapt", "Add calm-down methods to the handover; offer at first signs."),
            _c("Add calm-down methods to handover and offer them early, for a month.",
               "Monthly restraint incidents will drop below 10.",
               "Ward manager; all staff; one month.",
               "Restraint incidents (C chart).",
               "yes", "Offered at handover for patients who had a difficult day.",
               "8 restraints in the month (average before: 14).",
               "Staff and patients both value it; it has become routine.",
               "adopt", "Adopt as part of the Safewards programme on Willow Ward."),
        ],
    ),
    (
        "violence",
        ["Mutual help meeting", "Mutual help meeting every morning"],
        dt.date(2024, 11, 4),
        [MUTUAL_HELP],
        [
            _c("Hold a 15-minute mutual help meeting after breakfast, once.",
               "Half the patients on the ward will come.",
               "Occupational therapist leads, day room, Tuesday 09:30.",
               "Patients attending; offers of help made.",
               "yes", "Seven of 18 patients came; three offers of help.",
               "Attendance 39%, a little under the prediction.",
               "Patients asked for it to be shorter and at a set time every day.",
               "adapt", "Run it every weekday at 09:30 for two weeks, 10 minutes."),
            _c("Hold the meeting every weekday for two weeks.",
               "Attendance will rise to 50% as it becomes routine.",
               "OT and a nurse; day room; weekdays 09:30.",
               "Daily attendance.",
               "partly", "Missed two days when the OT was on leave.",
               "Attendance 45% on the days it ran.",
               "Nurses can lead it too; it should not depend on one person.",
               "adapt", "Train nurses to lead; include weekends."),
            _c("Nurse-led meeting every morning, including weekends, for a month.",
               "Attendance will pass 50% and patients will report feeling supported.",
               "Nurse in charge each morning; one month.",
               "Patient-days attended out of patient-days offered (P chart).",
               "yes", "Ran on 29 of 30 days.",
               "Attendance 52%; patients said they liked helping each other.",
               "Ready to adopt; keep measuring monthly.",
               "adopt", "Adopt every morning; review attendance at the monthly meeting."),
            _c("Test a short evening check-in, in the same format, for one week.",
               "Evening attendance will be lower than the morning but still above 30%.",
               "Late-shift nurse in charge; day room; 19:00.",
               "Attendance; incidents in the evening.",
               "", "", "", "", "", ""),
        ],
    ),
    # This year's work: keeping the gains and spreading them (the demo's trends and "what
    # changed" need cycles logged in the last twelve months, as a live project has).
    (
        "falls",
        ["Falls prevention at the weekend"],
        dt.date(2026, 2, 2),
        [FALLS_OUTCOME],
        [
            _c("Check the weekend rota covers rounding and the huddle, one weekend.",
               "Rounding will stay above 80% on time at the weekend.",
               "Weekend nurse in charge, Ward 7, Saturday and Sunday.",
               "Rounds on time; huddles held; falls at the weekend.",
               "yes", "Huddle held both days; rounding 76% on time on Sunday.",
               "Slightly under the prediction on Sunday; no falls.",
               "Bank staff did not know the rounding pattern.",
               "adapt", "Add the rounding card to the bank staff induction sheet."),
            _c("Give bank staff the rounding card at the start of each weekend shift.",
               "Weekend rounding above 80% on time on both days.",
               "Nurse in charge hands the card over at the start of shift, four weekends.",
               "Rounds on time by day; bank staff on shift.",
               "yes", "Cards handed over on 7 of 8 shifts.",
               "Weekend rounding 84% on time; one fall in four weekends.",
               "The card works for staff new to the ward.",
               "adopt", "Keep the card in the bank staff induction pack."),
            _c("Audit weekend falls against weekdays for a month.",
               "The weekend falls rate will be no higher than on weekdays.",
               "Ward manager, from the incident system, one month.",
               "Falls per 1,000 bed days, weekend and weekday.",
               "yes", "Audit done for the month.",
               "Weekend 5.1 and weekday 5.4 per 1,000 bed days.",
               "The weekend gap has closed.",
               "adopt", "Report the split in the monthly falls review."),
            _c("Share the weekend pattern with Ward 8 for a month.",
               "Ward 8 will run the huddle at every weekend handover.",
               "Ward 8 nurse in charge, shadowed by a Ward 7 nurse, one month.",
               "Huddles held at weekend handovers.",
               "", "", "", "", "", ""),
        ],
    ),
    (
        "violence",
        ["Safety pods in place of the floor", "Safety pods"],
        dt.date(2026, 5, 4),
        [MUTUAL_HELP],
        [
            _c("Use a safety pod for one planned intervention, with the patient's consent.",
               "The intervention will end without a prone hold.",
               "Trained nurses on Willow Ward, one planned depot injection.",
               "Holds used; time to calm; patient's view afterwards.",
               "yes", "The pod was used; no prone hold.",
               "Done in 6 minutes; the patient said it felt safer than the floor.",
               "Staff need practice with the pod before it is needed in a hurry.",
               "adapt", "Practise with the pod at two handovers a week."),
            _c("Practise with the safety pod at two handovers a week for a month.",
               "Every nurse on the ward will have practised once.",
               "Ward manager leads, 10 minutes at handover.",
               "Nurses who have practised.",
               "yes", "Eight sessions held.",
               "22 of 24 nurses practised.",
               "Ready to use it whenever a hold is needed.",
               "adopt", "Use the pod for every planned hold; record its use."),
            _c("Record every use of the pod and any prone hold for two months.",
               "No prone holds in two months.",
               "Nurse in charge, incident form and the pod log.",
               "Prone holds; pod uses.",
               "partly", "The pod log was missed twice.",
               "", "", "", ""),
        ],
    ),
]


def _find_project(context, keyword: str) -> Project | None:
    for title, project in (context.get("projects") or {}).items():
        if keyword in title.lower():
            return project
    return Project.objects.filter(title__icontains=keyword).order_by("pk").first()


def _find_idea(context, project: Project, names: list[str]) -> ChangeIdea:
    known = context.get("change_ideas") or {}
    for name in names:
        idea = known.get(name)
        if idea is not None and idea.project_id == project.pk:
            return idea
    idea = ChangeIdea.objects.filter(project=project, text__in=names).order_by("pk").first()
    if idea is None:
        # The driver-diagram seeder did not make it: add it, acting on the project's first
        # secondary driver so the demo diagram stays whole (every idea acts on a driver).
        position = ChangeIdea.objects.filter(project=project).count()
        idea = ChangeIdea.objects.create(project=project, text=names[0], position=position)
        secondary = project.drivers.filter(parent__isnull=False).order_by("position", "pk")
        if secondary.exists():
            idea.drivers.add(secondary.first())
    return idea


def _measures(context, project: Project, names: list[str]) -> list[Measure]:
    known = context.get("measures") or {}
    found = []
    for name in names:
        measure = known.get(name) if isinstance(known, dict) else None
        if measure is None or measure.project_id != project.pk:
            measure = Measure.objects.filter(project=project, name=name).first()
        if measure is not None:
            found.append(measure)
    return found


def seed(context) -> dict:
    made: dict[str, Cycle] = {}
    today = dt.date.today()
    for keyword, names, start, measure_names, specs in RAMPS:
        project = _find_project(context, keyword)
        if project is None:
            continue
        # Already seeded (under any of the idea's names): leave it alone.
        if Cycle.objects.filter(change_idea__project=project, change_idea__text__in=names).exists():
            continue
        idea = _find_idea(context, project, names)
        measures = _measures(context, project, measure_names)
        previous = None
        for i, spec in enumerate(specs):
            planned = start + dt.timedelta(weeks=4 * i)
            fields = {k: v for k, v in spec.items() if v}
            if fields.get("carried_out_as_planned"):
                fields["done_date"] = planned + dt.timedelta(days=7)
            if fields.get("results"):
                fields["studied_date"] = planned + dt.timedelta(days=10)
            if fields.get("decision"):
                fields["act_date"] = planned + dt.timedelta(days=12)
            # Nothing in the future is already done.
            for date_field in ("done_date", "studied_date", "act_date"):
                if fields.get(date_field) and fields[date_field] > today:
                    fields[date_field] = today
            previous = services.cycle_create(
                change_idea=idea,
                follows=previous,
                by=project.lead,
                planned_start=planned,
                # The first test of a ramp often links no data: the quality checklist shows it.
                measures=measures if i or len(specs) == 1 else [],
                **fields,
            )
            made[f"{idea.text} #{previous.number}"] = previous
    return {"pdsa_cycles": made}
