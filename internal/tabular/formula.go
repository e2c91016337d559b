package tabular

// IsFormulaLike reports whether a spreadsheet would read s as a formula
// (CSV or formula injection): s starts with "=", "+", "-", "@", a tab or a
// carriage return, the characters OWASP lists, and is not a plain decimal
// number such as "-12.50" or "+3".
func IsFormulaLike(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return !isPlainNumber(s[1:])
	}
	return false
}

// EscapeFormula returns s with a "'" in front when a spreadsheet would
// read it as a formula (see [IsFormulaLike]), as OWASP recommends: Excel,
// LibreOffice and Google Sheets then show the text and evaluate nothing.
// Anything else, numbers included, is returned unchanged. [WriteCSV],
// [WriteXLSX] and [XLSXWriter] escape every cell so; code writing a
// spreadsheet file itself should call it on every text column.
func EscapeFormula(s string) string {
	if IsFormulaLike(s) {
		return "'" + s
	}
	return s
}

// isPlainNumber reports whether s is digits with at most one decimal point
// between digits.
func isPlainNumber(s string) bool {
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// escapeRow returns row with every cell escaped, row itself when no cell
// needs it.
func escapeRow(row []string) []string {
	for i, c := range row {
		if IsFormulaLike(c) {
			out := make([]string, len(row))
			copy(out, row[:i])
			for j := i; j < len(row); j++ {
				out[j] = EscapeFormula(row[j])
			}
			return out
		}
	}
	return row
}
