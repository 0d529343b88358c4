{#-
    The code points clean_text() trims from both ends of every text value, and no
    others (docs/decisions/0007-text-normalisation.md): ASCII tab, LF, VT, FF, CR
    and space; U+00A0 and U+202F (no-break spaces), U+1680, U+2000-U+200A, U+205F
    and U+3000 (Unicode space separators), U+2028 and U+2029 (line and paragraph
    separators) and U+FEFF (the byte-order mark a spreadsheet export may begin
    with). Each engine's own trim strips a different set, so none is used.
    As [first, last] ranges. Python twin: raw_clients.TRIMMED_WHITESPACE.
-#}
{% macro trimmed_whitespace() %}
    {{- return([
        [9, 13], [32, 32], [160, 160], [5760, 5760], [8192, 8202], [8232, 8233],
        [8239, 8239], [8287, 8287], [12288, 12288], [65279, 65279],
    ]) -}}
{% endmacro %}
