// Package tabular reads and writes the spreadsheets staff and other
// departments exchange: CSV in UTF-8 (with or without BOM) or GBK/GB18030 as
// Excel writes it on Chinese Windows, and Excel .xlsx.
//
// [Read] turns an uploaded file into a [Table] of trimmed text cells, each row
// carrying the line number the user sees in Excel or a text editor, so that
// importers can say 「第 12 行：身份证号校验位错误」. [Table.Columns] maps the
// header to the columns an importer needs, accepting English and Chinese
// names. [ParseDate] reads the date spellings found in such files. Every error
// Read and Columns return is an [*Error] whose message is a Chinese sentence
// fit to show the user.
//
// [WriteXLSX], [XLSXWriter] and [WriteCSV] export lists. Prefer .xlsx for
// anything a person will open: Excel shows long digit strings such as ID
// numbers from a CSV as 3.10104E+17, whereas WriteXLSX stores every cell as
// text. All three put a "'" in front of text a spreadsheet would evaluate as
// a formula (starting with =, +, -, @, tab or carriage return, unless it is a
// plain number): see [EscapeFormula].
//
// The package is a leaf: it imports only the standard library, excelize and
// golang.org/x/text.
package tabular
