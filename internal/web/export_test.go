package web

// Thousands exposes thousands to the external tests.
var Thousands = thousands
