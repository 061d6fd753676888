"""The .env dialect: compose-go's dotenv tests and fixtures as tables, plus
behaviour of the Docker Compose v2.40.3 binary (rows marked "binary")."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.config.dotenv import load_file, parse, parse_raw
from orchestrator.config.errors import DotenvError

DATA = Path(__file__).parent / "data" / "dotenv"


def env(**values: str):
    return values.get


# compose-go godotenv_test.go TestParsing: (line, key, value)
PARSING = [
    ("FOO=bar", "FOO", "bar"),
    ("FOO =bar", "FOO", "bar"),
    ("FOO= bar", "FOO", "bar"),
    ('FOO="bar"', "FOO", "bar"),
    ("FOO='bar'", "FOO", "bar"),
    ('FOO="escaped\\"bar"', "FOO", 'escaped"bar'),
    ('FOO="\\"quoted\\""', "FOO", '"quoted"'),
    ("FOO=\"'d'\"", "FOO", "'d'"),
    ("OPTION_A: 1", "OPTION_A", "1"),
    ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
    ("OPTION_A=1:B", "OPTION_A", "1:B"),
    ("export OPTION_A=2", "OPTION_A", "2"),
    ("export OPTION_B='\\n'", "OPTION_B", "\\n"),
    ("export exportFoo=2", "exportFoo", "2"),
    ("exportFOO=2", "exportFOO", "2"),
    ("export_FOO =2", "export_FOO", "2"),
    ("export.FOO= 2", "export.FOO", "2"),
    ("export\tOPTION_A=2", "OPTION_A", "2"),
    ("  export OPTION_A=2", "OPTION_A", "2"),
    ("\texport OPTION_A=2", "OPTION_A", "2"),
    ('export OPTION_A="export A"', "OPTION_A", "export A"),
    ('FOO="bar\\nbaz"', "FOO", "bar\nbaz"),
    ("FOO=a\\tb", "FOO", "a\\tb"),
    ('FOO="a\\tb"', "FOO", "a\tb"),
    ('KEY="Z\\aZ\\bZ\\fZ\\nZ\\rZ\\tZ\\vZ\\\\Z\\0123Z"', "KEY",
     "Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\ZSZ"),
    ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
    ("FOO=foobar=", "FOO", "foobar="),
    ("FOO=bar ", "FOO", "bar"),
    ("FOO=bar # this is foo", "FOO", "bar"),
    ("FOO=bar #this is foo", "FOO", "bar"),
    ("FOO=bar #", "FOO", "bar"),
    ("FOO=123#not-an-inline-comment", "FOO", "123#not-an-inline-comment"),
    ('FOO="bar#baz"', "FOO", "bar#baz"),
    ('FOO="bar#baz"#', "FOO", "bar#baz"),
    ('FOO="bar#baz" # comment', "FOO", "bar#baz"),
    ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
    ('FOO="bar#baz#bang" # comment', "FOO", "bar#baz#bang"),
    ('FOO="ba#r"', "FOO", "ba#r"),
    ("FOO='ba#r'", "FOO", "ba#r"),
    ('FOO="bar\\n\\ b\\az"', "FOO", "bar\n\\ b\az"),
    ('FOO="bar\\\\\\n\\ b\\az"', "FOO", "bar\\\n\\ b\az"),
    ('FOO="bar\\\\r\\ b\\az"', "FOO", "bar\\r\\ b\az"),
    ('FOO="bar\\nbaz\\\\"', "FOO", "bar\nbaz\\"),
    ('="value"', "", "value"),
    (" KEY =value", "KEY", "value"),
    ("   KEY=value", "KEY", "value"),
    ("\tKEY=value", "KEY", "value"),
    ('KEY="\\0123"', "KEY", "S"),
    ('KEY="\\x07"', "KEY", "\\x07"),
    ('KEY="\\u12e4"', "KEY", "\\u12e4"),
    ('KEY="\\U00101234"', "KEY", "\\U00101234"),
    # TestVariableStringValueSeparator
    ('TEST_URLS="stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"',
     "TEST_URLS", "stratum+tcp://stratum.antpool.com:3333\nstratum+tcp://stratum.antpool.com:443"),
    # binary: octal needs three digits up to 377, else it is kept without the 0
    ('A="\\0"', "A", "\\"),
    ('A="\\01"', "A", "\\1"),
    ('A="\\0777"', "A", "\\777"),
    ('A="\\0351"', "A", "\u00e9"),
    ('A="\\01234"', "A", "S4"),
    ('A="\\c"', "A", "\\c"),
    # binary: single quotes only unescape the quote
    ("S='a\\'b\\\\n\\n'", "S", "a'b\\\\n\\n"),
    # binary: "\$" and "$$" are a literal $
    ('A="\\$HOME $$HOME"', "A", "$HOME $HOME"),
    ("A=$$HOME", "A", "$HOME"),
    # binary: after "=", blanks go first, so " #c" is no inline comment
    ("D= #c", "D", "#c"),
    ("B=a\t#b", "B", "a\t#b"),
    ("A=a #b #c", "A", "a"),
    ("K:V=1", "K", "V=1"),
    ("U: http://x # c", "U", "http://x"),
    ("A\tB=1", "A\tB", "1"),
    ("A=1\r\n", "A", "1"),
    ('A="multi\r\nline"\r\n', "A", "multi\r\nline"),
    # binary: "export" on a line of its own makes an empty bare key
    ("export\nFOO=1", "FOO", "1"),
]


@pytest.mark.parametrize("text,key,value", PARSING)
def test_parsing(text: str, key: str, value: str) -> None:
    assert parse(text)[key] == value


def test_parse() -> None:
    assert parse("ONE=1\nTWO='2'\nTHREE = \"3\"") == {"ONE": "1", "TWO": "2", "THREE": "3"}


# TestExpanding; godotenv_var_expansion_test.go, with its map as earlier lines
EXPANDING = [
    ("FOO=test\nBAR=$FOO", {"FOO": "test", "BAR": "test"}),
    ("FOO=test\nBAR=${FOO}bar", {"FOO": "test", "BAR": "testbar"}),
    ("BAR=$FOO", {"BAR": ""}),
    ('FOO=test\nBAR="quote $FOO"', {"FOO": "test", "BAR": "quote test"}),
    ("BAR='quote $FOO'", {"BAR": "quote $FOO"}),
    ('FOO="foo\\$BAR"', {"FOO": "foo$BAR"}),
    ('FOO="foo\\${BAR}"', {"FOO": "foo${BAR}"}),
    ('FOO=test\nBAR="foo\\${FOO} ${FOO}"', {"FOO": "test", "BAR": "foo${FOO} test"}),
    ("R=${UNSET_VAR:-Default Value}", {"R": "Default Value"}),
    ("EMPTY_VAR=\nR=${EMPTY_VAR:-Default Value}", {"EMPTY_VAR": "", "R": "Default Value"}),
    ("TEST_VAR=Test Value\nR=${TEST_VAR:-Default Value}", {"TEST_VAR": "Test Value", "R": "Test Value"}),
    ("R=${UNSET_VAR-Default Value}", {"R": "Default Value"}),
    ("EMPTY_VAR=\nR=${EMPTY_VAR-Default Value}", {"EMPTY_VAR": "", "R": ""}),
    ("TEST_VAR=Test Value\nR=${TEST_VAR:?Default Value}", {"TEST_VAR": "Test Value", "R": "Test Value"}),
    ("EMPTY_VAR=\nR=${EMPTY_VAR?Test error}", {"EMPTY_VAR": "", "R": ""}),
    ("TEST_VAR=Test Value\nR=${TEST_VAR?Default Value}", {"TEST_VAR": "Test Value", "R": "Test Value"}),
    ("A=x${B-${C:-deflt}}y", {"A": "xdeflty"}),
]


@pytest.mark.parametrize("text,expected", EXPANDING)
def test_expanding(text: str, expected: dict) -> None:
    assert parse(text) == expected


EXPANSION_ERRORS = [
    # (text, message, line of the statement)
    ("RESULT=${UNSET_VAR:?Test error}",
     "required variable UNSET_VAR is missing a value: Test error", 1),
    ("EMPTY_VAR=\nRESULT=${EMPTY_VAR:?Test error}",
     "required variable EMPTY_VAR is missing a value: Test error", 2),
    ("RESULT=${UNSET_VAR?Test error}",
     "required variable UNSET_VAR is missing a value: Test error", 1),
    ('A=1\nB="${X:?need it}\n"', "required variable X is missing a value: need it", 2),
]


@pytest.mark.parametrize("text,message,line", EXPANSION_ERRORS)
def test_expansion_errors_carry_file_and_line(text: str, message: str, line: int) -> None:
    with pytest.raises(DotenvError) as info:
        parse(text, file=".env")
    assert info.value.message == message
    assert (info.value.location.file, info.value.location.line) == (".env", line)


def test_invalid_template_in_a_value() -> None:
    with pytest.raises(DotenvError, match="invalid interpolation format"):
        parse("A=1\nB=${}", file=".env")


def test_lookup_comes_before_earlier_lines() -> None:
    # binary: with A=env in the environment, B=${A} after A=1 gives "env"
    assert parse("A=1\nB=${A}\nC=$$A", env(A="env")) == {"A": "1", "B": "env", "C": "$A"}


def test_unset_references_are_reported() -> None:
    heard: list[str] = []
    assert parse("B=$UNDEF\nC=${UNDEF2:-x}\nD='$NO'", on_unset=heard.append) == {
        "B": "", "C": "x", "D": "$NO"}
    assert heard == ["UNDEF"]


def test_expanding_with_lookup() -> None:
    assert parse("TEST=$ME", env(ME="YES")) == {"TEST": "YES"}


def test_bare_keys_inherit_from_the_lookup() -> None:
    text = (DATA / "inherited-multi-var.env").read_text()
    lookup = env(VAR_TO_BE_LOADED_FROM_OS_ENV="SOME_RANDOM_VALUE")
    assert parse(text, lookup) == {"foo": "bar", "bar": "baz",
                                   "VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE"}
    asked: list[str] = []
    result = parse("VARIABLE_NOT_FOUND\n", lambda k: asked.append(k))
    assert result == {} and asked == ["VARIABLE_NOT_FOUND"]
    assert parse("KEY \r\n", env(KEY="")) == {"KEY": ""}


def test_text_left_after_the_last_line_break_is_the_empty_key() -> None:
    # binary: a last line without "=", ":" or a line break is not a bare key
    assert parse("A=1\nFOO") == {"A": "1", "": "FOO"}
    assert parse("export") == {"": "export"}


def test_trailing_text_after_a_quoted_value_starts_a_new_statement() -> None:
    # binary: FOO="bar" baz  ->  FOO=bar, and baz as a bare key
    assert parse('FOO="bar" baz\n', env(baz="B")) == {"FOO": "bar", "baz": "B"}
    assert parse("D='x' y=1") == {"D": "x", "y": "1"}


@pytest.mark.parametrize("text", ["\n", "\r\n", "\t\t ", "# Comment", "\t # comment", "\ufeff"])
def test_lines_to_ignore(text: str) -> None:
    assert parse(text) == {}


def test_unicode_keys() -> None:  # parser_test.go TestParseBytes
    text = "\na=b\na[1]=c\na.propertyKey=d\nárvíztűrő-TÜKÖRFÚRÓGÉP=ÁRVÍZTŰRŐ-tükörfúrógép\n"
    assert parse(text) == {"a": "b", "a[1]": "c", "a.propertyKey": "d",
                           "árvíztűrő-TÜKÖRFÚRÓGÉP": "ÁRVÍZTŰRŐ-tükörfúrógép"}


ERRORS = [
    # (text, message, line); the lines are where the problem is. compose-go
    # reports an unterminated quote at the last line of the file, and loses
    # a line after a bare key with trailing blanks.
    ("lol$wut", 'unexpected character "$" in variable name "lol$wut"', 1),
    ("%!(EXTRA string)=foo",
     'unexpected character "%" in variable name "%!(EXTRA string)=foo"', 1),
    ("A=1\n\nlol$wut=2\n", 'unexpected character "$" in variable name "lol$wut=2"', 3),
    ("A=1\nMY KEY=2\n", "key cannot contain a space", 2),
    ("A\n  B \nexport K Y \n", "key cannot contain a space", 3),
    ('A="abc\nB=2\n', 'unterminated quoted value "abc', 1),
    ("x=1\nexport ", 'expected a variable name after "export"', 2),
]


@pytest.mark.parametrize("text,message,line", ERRORS)
def test_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(DotenvError) as info:
        parse(text, file="x.env")
    assert info.value.message == message
    assert info.value.location.line == line
    assert str(info.value) == f"x.env:{line}: {message}"


@pytest.mark.parametrize("text", ['KEY="', 'KEY="value', 'KEY="value\\"', "KEY=\"value'",
                                  "KEY='", "KEY='value", "KEY='value\\'", "KEY='value\""])
def test_unterminated_quotes(text: str) -> None:
    with pytest.raises(DotenvError, match="unterminated quoted value"):
        parse(text)


# The fixtures of compose-go's dotenv/fixtures, re-typed into data/dotenv.
FIXTURES = [
    ("plain.env", {}, {"OPTION_A": "1", "OPTION_B": "2", "OPTION_C": "3", "OPTION_D": "4",
                       "OPTION_E": "5", "OPTION_F": "", "OPTION_G": "", "OPTION_H": "my string",
                       # godotenv's Read drops keys starting with a digit; Compose
                       # (GetEnvFromFile) does not, and the binary shows 456.
                       "456": "ABC"}),
    ("exported.env", {}, {"OPTION_A": "2", "OPTION_B": "\\n"}),
    ("equals.env", {}, {"OPTION_A": "postgres://localhost:5432/database?sslmode=disable"}),
    ("quoted.env", {}, {"OPTION_A": "1", "OPTION_B": "2", "OPTION_C": "", "OPTION_D": "\\n",
                        "OPTION_E": "1", "OPTION_F": "2", "OPTION_G": "", "OPTION_H": "\n",
                        "OPTION_I": "echo 'asd'",
                        "OPTION_J": "first line\nsecond line\nthird line\nand so on",
                        "OPTION_K": "Let's go!", "OPTION_Z": "last value"}),
    ("unquoted.env", {}, {"OPTION_A": "some quoted phrase",
                          "OPTION_B": "first one with an unquoted phrase",
                          "OPTION_C": "then another one with an unquoted phrase",
                          "OPTION_D": "then another one with an unquoted phrase special è char",
                          "OPTION_E": "then another one quoted phrase"}),
    ("substitutions.env", {}, {"OPTION_A": "1", "OPTION_B": "1", "OPTION_C": "1",
                               "OPTION_D": "1_1", "OPTION_E": ""}),
    ("substitutions.env", {"OPTION_A": "5"}, {"OPTION_A": "1", "OPTION_B": "5", "OPTION_C": "5",
                                              "OPTION_D": "5_5", "OPTION_E": ""}),
    ("substitutions-default.env", {"OPTION_A": "5"},
     {"OPTION_A": "5", "OPTION_B": "5", "OPTION_C": "5", "OPTION_D": "5_5", "OPTION_E": ""}),
    ("substitutions-default.env", {},
     {"OPTION_A": "1", "OPTION_B": "1", "OPTION_C": "1", "OPTION_D": "1_1", "OPTION_E": ""}),
    ("utf8-bom.env", {}, {"OPTION_A": "1", "OPTION_B": "2", "OPTION_C": "3", "OPTION_D": "4",
                          "OPTION_E": "5", "456": "ABC", "OPTION_F": "", "OPTION_G": "",
                          "OPTION_H": "my string"}),
    ("special.env", {}, {"VAR-WITH-DASHES": "dashes", "VAR.WITH.DOTS": "dots",
                         "VAR_WITH_UNDERSCORES": "underscores"}),
    ("inherited-single-var.env", {"VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE"},
     {"VAR_TO_BE_LOADED_FROM_OS_ENV": "SOME_RANDOM_VALUE"}),
    ("inherited-not-found.env", {}, {}),
]


@pytest.mark.parametrize("name,environ,expected", FIXTURES)
def test_fixture(name: str, environ: dict, expected: dict) -> None:
    assert load_file(DATA / name, environ.get) == expected


def test_fixture_with_a_bad_line() -> None:
    with pytest.raises(DotenvError) as info:
        load_file(DATA / "invalid1.env")
    assert info.value.message == "key cannot contain a space"
    assert (info.value.location.file, info.value.location.line) == (str(DATA / "invalid1.env"), 7)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.env"
    with pytest.raises(DotenvError) as info:
        load_file(path)
    assert str(path) in info.value.message and "does not exist" in info.value.message


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DotenvError, match="is a directory"):
        load_file(tmp_path)


def test_unknown_format(tmp_path: Path) -> None:
    (tmp_path / "x.env").write_text("A=1\n")
    with pytest.raises(DotenvError, match='unsupported env_file format "bogus"'):
        load_file(tmp_path / "x.env", format="bogus")


def test_invalid_utf8_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "x.env").write_bytes(b"A=\xe9t\xe9\nB=1")  # binary: shows U+FFFD
    assert load_file(tmp_path / "x.env") == {"A": "\ufffdt\ufffd", "B": "1"}


# format: raw (docker run --env-file rules), each row checked with the binary
RAW = [
    ('\ufeffA= x \r\n  B="q"\r\n# c\n\n\tC\nD\nE=a=b', {"C": "cv"},
     {"A": " x ", "B": '"q"', "C": "cv", "E": "a=b"}),
    ("A=$B ${C:-x} \\n # not a comment", {"B": "b"}, {"A": "$B ${C:-x} \\n # not a comment"}),
    ("A=1\nA=2", {}, {"A": "2"}),
]


@pytest.mark.parametrize("text,environ,expected", RAW)
def test_raw(text: str, environ: dict, expected: dict) -> None:
    assert parse_raw(text, environ.get) == expected


@pytest.mark.parametrize("text,message,line", [
    ("A=1\nKEY X=1", "variable 'KEY X' contains whitespaces", 2),
    ("KEY =1", "variable 'KEY ' contains whitespaces", 1),
    ("=1", "no variable name on line '=1'", 1),
])
def test_raw_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(DotenvError) as info:
        parse_raw(text, file="x.env")
    assert (info.value.message, info.value.location.line) == (message, line)


def test_raw_file(tmp_path: Path) -> None:
    (tmp_path / "x.env").write_bytes(b'A="x y"\nB=$A\n')
    assert load_file(tmp_path / "x.env", format="raw") == {"A": '"x y"', "B": "$A"}
    (tmp_path / "x.env").write_bytes(b"A=1\nB=\xff\n")
    with pytest.raises(DotenvError, match="invalid utf8") as info:
        load_file(tmp_path / "x.env", format="raw")
    assert info.value.location.line == 2


def test_many_lines() -> None:  # parser_test.go TestMemoryExplosion, for speed here
    text = "\n".join(f"KEY{i}=VALUE{i}" for i in range(1000))
    assert len(parse(text)) == 1000


_LINES = st.lists(st.sampled_from(
    ["A", "b.c", "=", ":", " ", "\t", "\n", "\r\n", '"', "'", "\\", "#", " #", "$", "${", "}",
     "$A", "${A:-x}", "${A:?}", "export ", "é", "\\0101", "x"]), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _LINES))
def test_parse_raises_only_dotenv_errors(text: str) -> None:
    try:
        result = parse(text, env(A="a"))
    except DotenvError as e:
        assert e.message
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
