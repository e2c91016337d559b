// Package idcard parses, validates, builds and masks citizen ID numbers
// (居民身份证号码, GB 11643-1999).
package idcard
