"""Interpolation: compose-go's template tests as tables, plus the quirks the
Docker Compose v2.40.3 binary was seen to have (rows marked "binary")."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from orchestrator.config.errors import ConfigError, InterpolationError
from orchestrator.config.interpolate import Variable, extract, substitute, variables

# compose-go template_test.go's mapping
DEFAULTS = {"FOO": "first", "BAR": "", "JSON": '{"json":2}'}


def lookup(name: str) -> str | None:
    return DEFAULTS.get(name)


SUBSTITUTIONS = [
    # TestEscaped, TestSubstituteNoMatch, TestUnescaped
    ("$${foo}", "${foo}"),
    ("foo", "foo"),
    ("a $ string", "a $ string"),
    ("^REGEX$", "^REGEX$"),
    ("$}", "$}"),
    ("$", "$"),
    # TestNonBraced (docker/compose#8601)
    ("$FOO-bar", "first-bar"),
    # TestNoValueNoDefault, TestValueNoDefault
    ("This ${missing} var", "This  var"),
    ("This ${BAR} var", "This  var"),
    ("This $FOO var", "This first var"),
    ("This ${FOO} var", "This first var"),
    # TestNoValueWithDefault and the soft/hard default tests
    ("ok ${missing:-def}", "ok def"),
    ("ok ${missing-def}", "ok def"),
    ("ok ${BAR:-def}", "ok def"),
    ("ok ${FOO:-def}", "ok first"),
    ("ok ${BAR-def}", "ok "),
    # TestPresentValue*
    ("ok ${UNSET_VAR:+presence_value}", "ok "),
    ("ok ${UNSET_VAR+presence_value}", "ok "),
    ("ok ${FOO:+presence_value}", "ok presence_value"),
    ("ok ${FOO+presence_value}", "ok presence_value"),
    ("ok ${BAR+presence_value}", "ok presence_value"),
    ("ok ${BAR:+presence_value}", "ok "),
    # TestNonAlphanumericDefault
    ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
    # TestInterpolationExternalInterference
    ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
    ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
    ("-ok ${FOO:-defaultValue}", "-ok first"),
    (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
    (":-ok ${BAR-defaultValue}", ":-ok "),
    (":?ok ${BAR-defaultValue}", ":?ok "),
    (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
    (":+ok ${BAR:-defaultValue}", ":+ok defaultValue"),
    ("+ok ${BAR-defaultValue}", "+ok "),
    ("?ok ${BAR:-defaultValue}", "?ok defaultValue"),
    # TestDefaultsWithNestedExpansion
    ("ok ${UNSET_VAR-$FOO}", "ok first"),
    ("ok ${UNSET_VAR-${FOO}}", "ok first"),
    ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR:-$FOO}", "ok first"),
    ("ok ${BAR:-${FOO}}", "ok first"),
    ("ok ${BAR:-${FOO} ${FOO}}", "ok first first"),
    ("ok ${BAR+$FOO}", "ok first"),
    ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
    # TestDefaultsForMandatoryVariables
    ("ok ${FOO:?err}", "ok first"),
    ("ok ${FOO?err}", "ok first"),
    ("ok ${BAR?err}", "ok "),
    # TestPrecedence: the first operator after the name wins
    ("${UNSET_VAR-myerror?msg}", "myerror?msg"),
    ("${FOO?bar-baz}", "first"),
    ("${BAR:-default_value_for_empty_var}", "default_value_for_empty_var"),
    ("${UNSET_VAR-default_value_for_unset_var}", "default_value_for_unset_var"),
    # TestNoValueWithCurlyBracesDefault, TestValueWithCurlyBracesDefault
    ('ok ${missing:-{"json":1}}', 'ok {"json":1}'),
    ('ok ${missing-{"json":1}}', 'ok {"json":1}'),
    ('ok ${JSON:-{"json":1}}', 'ok {"json":2}'),
    ('ok ${JSON-{"json":1}}', 'ok {"json":2}'),
    # TestSubstituteWithReplacementFunc, last case
    ("ok ${SUBDOMAIN:-redis}.${FOO:?}", "ok redis.first"),
    # binary: several defaults on one line (the regex takes them as one match)
    ("${A:-a}${B:-b}${C:-c}", "abc"),
    ("pre ${BAR:-a} mid ${FOO:+b} post", "pre a mid b post"),
    ("${UNSET-${FOO}}${UNSET2-x}", "firstx"),
    ("${A:-${B:-${C:-deep}}}", "deep"),
    ("${FOO}${FOO}", "firstfirst"),
    ("$FOO$FOO$$FOO", "firstfirst$FOO"),
    # binary: a $ that starts no name stays
    ("$1$-$ $}", "$1$-$ $}"),
    # binary: brace counting skips the character after "{", so "{}" never closes
    ("${A:-{}}", "{}"),
    ("${A:-{}", "{"),
    ("${A:-x}}", "x}"),
    ("${BAR:+alt}", ""),
    ("${BAR+alt}", "alt"),
    ("${FOO:?${BAR:-dflt}}", "first"),
    # binary: Go's case-insensitive [a-z] also takes KELVIN SIGN and LONG S ...
    ("a${\u212a}b", "ab"),
    ("a$\u017fb", "a"),
    # ... but not dotted or dotless i
    ("a$\u0130b", "a$\u0130b"),
    ("", ""),
]


@pytest.mark.parametrize("template,expected", SUBSTITUTIONS)
def test_substitute(template: str, expected: str) -> None:
    assert substitute(template, lookup) == expected


INVALID = [
    # TestInvalid: (template, the template compose names in the error)
    ("${", "${"),
    ("${}", "${}"),
    ("${ }", "${ }"),
    ("${ foo}", "${ foo}"),
    ("${foo }", "${foo }"),
    ("${foo!}", "${foo!}"),
    # binary: a default cannot span lines
    ("${FOO:-a\nb}", "${FOO:-a\nb}"),
    ("${\u0130}", "${\u0130}"),
    # binary: the error names the part being substituted, the default ...
    ("${FOO:-${}}", "${}"),
    # ... or the rest after a braced operator
    ("${FOO:-a}-${}", "-${}"),
]


@pytest.mark.parametrize("template,shown", INVALID)
def test_invalid_template(template: str, shown: str) -> None:
    with pytest.raises(InterpolationError) as info:
        substitute(template, lookup)
    assert info.value.message.startswith("invalid interpolation format for ")
    assert info.value.message.endswith(_quoted(shown))
    assert "escape any $ with another $" in str(info.value)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


MISSING = [
    # TestMandatoryVariableErrors and ...WithNestedExpansion
    ("not ok ${UNSET_VAR:?Mandatory Variable Unset}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable Unset"),
    ("not ok ${BAR:?Mandatory Variable Empty}",
     "required variable BAR is missing a value: Mandatory Variable Empty"),
    ("not ok ${UNSET_VAR:?}", "required variable UNSET_VAR is missing a value"),
    ("not ok ${UNSET_VAR?Mandatory Variable Unset}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable Unset"),
    ("not ok ${UNSET_VAR?}", "required variable UNSET_VAR is missing a value"),
    ("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable first"),
    ("not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
     "required variable UNSET_VAR is missing a value: Mandatory Variable first"),
    # TestPrecedence
    ("${UNSET_VAR?bar-baz}", "required variable UNSET_VAR is missing a value: bar-baz"),
    # binary: an operator's argument is substituted even when not used
    ("${FOO:-${UNSET:?inner}}", "required variable UNSET is missing a value: inner"),
    ("${FOO+${UNSET?x}}", "required variable UNSET is missing a value: x"),
    ("${UNSET:?${BAR:-dflt}}", "required variable UNSET is missing a value: dflt"),
    # the first error from the left wins
    ("${A:?one} ${B:?two}", "required variable A is missing a value: one"),
]


@pytest.mark.parametrize("template,message", MISSING)
def test_missing_required(template: str, message: str) -> None:
    with pytest.raises(InterpolationError) as info:
        substitute(template, lookup)
    assert info.value.message == message


def test_caller_adds_the_location() -> None:
    with pytest.raises(InterpolationError) as info:
        substitute("${X?}", lookup)
    err = info.value.at(file="compose.yaml", line=3, path=("services", "web", "image"))
    assert str(err) == ("compose.yaml:3: services.web.image: "
                        "required variable X is missing a value")


def test_on_unset_hears_plain_references_only() -> None:
    heard: list[str] = []
    substitute("$A ${B} ${C:-x} ${D-y} ${E:+z} $FOO ${BAR}", lookup, on_unset=heard.append)
    assert heard == ["A", "B"]


def test_string_without_dollar_is_returned_as_is() -> None:
    text = "no variables here " * 10
    assert substitute(text, lookup) is text


def test_long_line_of_defaults_needs_no_deep_stack() -> None:
    assert substitute("${A:-a}" * 5000, lookup) == "a" * 5000


def test_absurd_nesting_is_an_interpolation_error() -> None:
    deep = "${A:-" * 1500 + "x" + "}" * 1500
    with pytest.raises(InterpolationError):
        substitute(deep, lookup)


# hypothesis: arbitrary text, weighted towards the interesting characters
_ALPHABET = st.sampled_from(list("${}:-+?_aZ1 \n") + ["${", ":-", "$$", "\u212a"])
_TEMPLATES = st.one_of(st.text(), st.lists(_ALPHABET, max_size=30).map("".join))


@settings(max_examples=300, deadline=None)
@given(_TEMPLATES, st.dictionaries(st.sampled_from(["a", "Z", "_", "a1"]), st.text(max_size=3)))
@example("${a:-${", {})
@example("${a:?}", {"a": ""})
def test_substitute_raises_only_interpolation_errors(template: str, env: dict) -> None:
    try:
        result = substitute(template, env.get)
    except InterpolationError as e:
        assert isinstance(e, ConfigError) and e.message
    else:
        assert isinstance(result, str)


@given(st.text())
def test_text_without_dollar_comes_back_unchanged(text: str) -> None:
    text = text.replace("$", "")
    assert substitute(text, lambda name: "X") == text


@given(st.text())
def test_escaped_text_comes_back_literally(text: str) -> None:
    assert substitute(text.replace("$", "$$"), lambda name: "X") == text


# compose-go variables_test.go, one string at a time
EXTRACTIONS = [
    ("foo", []),
    ("$bar", [Variable("bar")]),
    ("$bar_1", [Variable("bar_1")]),
    ("${bar}", [Variable("bar")]),
    ("${bar?:foo}", [Variable("bar", required=True)]),
    ("${bar_1?:foo}", [Variable("bar_1", required=True)]),
    ("${bar?foo}", [Variable("bar", required=True)]),
    ("${bar:-foo}", [Variable("bar", default="foo")]),
    ("${bar-foo}", [Variable("bar", default="foo")]),
    ("${bar_1:-foo}", [Variable("bar_1", default="foo")]),
    ("${bar:+foo}", [Variable("bar", alternate="foo")]),
    ("${bar+foo}", [Variable("bar", alternate="foo")]),
    ("$docker:${project:-cli}", [Variable("docker"), Variable("project", default="cli")]),
    ("${SUBDOMAIN:-redis}.${ROOTDOMAIN:?}",
     [Variable("ROOTDOMAIN", required=True), Variable("SUBDOMAIN", default="redis")]),
    ("${SUBDOMAIN:-$ROOTDOMAIN}",
     [Variable("SUBDOMAIN", default="$ROOTDOMAIN"), Variable("ROOTDOMAIN")]),
    ("$$escaped ${A}", [Variable("A")]),
    # the rest after a braced operator comes first, so a map keeps the first
    ("${A:-x}${A:-y}", [Variable("A", default="y"), Variable("A", default="x")]),
]


@pytest.mark.parametrize("template,expected", EXTRACTIONS)
def test_extract(template: str, expected: list[Variable]) -> None:
    assert extract(template) == expected


def test_variables_are_the_names() -> None:
    assert variables("$docker:${project:-cli} ${fruit:-banana} $$not ${X:+$Y}") == {
        "docker", "project", "fruit", "X", "Y"}
    assert variables("${") == set()  # compose-go's nameless entry is dropped


@given(_TEMPLATES)
def test_extract_never_raises(template: str) -> None:
    assert all(isinstance(v, Variable) for v in extract(template))
