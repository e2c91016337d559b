// Package cases is the case engine's foundation: the catalogue of services
// (事项) of the community affairs centres as definition files, and the
// working-day calendar their deadlines are counted in.
//
// A definition (services/*.yaml, embedded; LoadDir reads an override) says
// what a service is — code, Chinese and English name, legal basis,
// responsible level and department, who may apply — what the applicant
// fills in (a form of typed fields, checked by Service.Validate) and brings
// (the materials list, where fetched_from marks what the platform already
// holds, 免提交), its fees and promised time limit (承诺时限, in working
// days), and its chain: states with deadlines in working days and the
// transitions between them, each with the roles of internal/auth that may
// take it, what it must record and whether it decides the case. A bundle
// (一件事, kind: bundle) lists several services that share one form. Every
// fact carries its source and whether it was confirmed there, as policy
// files do. Loading refuses a malformed file with its path, line and
// field, in Chinese.
//
// Calendar (workdays.go, data in calendar/holidays.csv with its SOURCE.md)
// holds China's official public holidays and make-up working days
// (法定节假日、调休上班) of 2024–2026 as the State Council's yearly notices
// set them, and counts due dates and elapsed working days.
//
// Nothing is wired yet: no business line runs on the engine. The next step
// moves social assistance onto it; its chain is already the dibao
// definition, state for state.
package cases
