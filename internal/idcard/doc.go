// Package idcard parses, validates, builds and masks citizen ID numbers
// (居民身份证号码, GB 11643-1999).
//
// Parse checks the check character, the birth date and the address code.
// Address codes are checked against regions.csv, every county- and
// prefecture-level GB/T 2260 code since 1980, because a number keeps the code
// of the county that issued it after that county is merged or renamed;
// REGIONS_SOURCE.md says where the list comes from. Errors are *Error values
// with a stable Code and a Chinese Message for the window clerk.
package idcard
