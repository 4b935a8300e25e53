"""The password rule as one pure function (no database, no UI): every place that sets a password calls it.

A password is accepted when it

1. has at least ``MIN_LENGTH`` (10) characters;
2. mixes at least 3 of the 4 classes lower-case letters, upper-case letters, digits and symbols —
   or has at least ``LONG_ENOUGH`` (16) characters (a passphrase needs no classes);
3. does not contain the user name (compared without case; for names of 1–2 characters only the whole
   password is compared, for an e-mail address also its part before ``@``);
4. is not a common password: one of ``COMMON_PASSWORDS``, a ``COMMON_WORDS`` word with digits and
   symbols around it (``Password123!``, ``Gulou@2026``, ``123456abc``), digits and symbols only with a
   run like ``123456``, a run of 8 along the alphabet, the digits or a keyboard row (``abcdefgh``,
   ``12345678``, ``qwertyui``), or fewer than 5 different characters — nor one of the ``refused``
   passwords the caller adds (the published demo passwords).

``check_password`` raises ``DataValidationError`` with a Chinese message naming the first rule broken.
"""
from __future__ import annotations

import string

from geo.errors import DataValidationError

MIN_LENGTH = 10
LONG_ENOUGH = 16
MIN_CLASSES = 3
RULE = (f"至少{MIN_LENGTH}个字符，且含小写字母、大写字母、数字、符号中的至少{MIN_CLASSES}类"
        f"（{LONG_ENOUGH}个字符及以上不限）；不能包含用户名，不能是常见密码")
"""The rule in one line, for form labels and prompts."""

COMMON_PASSWORDS: frozenset[str] = frozenset({
    "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword",
    "admin", "admin123", "admin@123", "admin1234", "admin@1234", "admin12345", "administrator", "root", "root123",
    "qwerty", "qwerty123", "qwertyuiop", "1qaz2wsx", "1qaz@wsx", "1q2w3e4r", "1q2w3e4r5t", "zaq12wsx",
    "abc123", "abcd1234", "abc12345", "123456abc", "abc123456", "a1234567", "aa123456",
    "12345678", "123456789", "1234567890", "0123456789", "11111111", "00000000", "88888888", "66666666",
    "iloveyou", "welcome", "welcome1", "letmein", "woaini", "woaini1314", "5201314",
    "gulou", "gulou123", "gulou@123", "fuzhou", "fuzhou123", "fuzhou@123", "gulouqu", "gulou2026",
})
"""Passwords refused outright (compared without case)."""

COMMON_WORDS: frozenset[str] = frozenset({
    "password", "passw0rd", "p@ssw0rd", "pass", "admin", "administrator", "root", "qwerty", "welcome", "letmein",
    "iloveyou", "woaini", "abc", "abcd", "abcdef", "test", "demo", "user", "guest", "gulou", "gulouqu",
    "fuzhou", "fujian", "zhengfu", "shequ", "wangge",
})
"""Words that stay common with digits or symbols before or after them (``Admin@2026!``)."""

_RUNS = ("123456", "654321", "111111", "000000", "888888")
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc")
_SEQUENCE_RUN = 8
_AROUND = string.digits + string.punctuation + string.whitespace


def character_classes(password: str) -> int:
    """How many of lower-case, upper-case, digits and symbols (anything else) ``password`` uses (0–4)."""
    kinds = {"lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "symbol"
             for c in password}
    return len(kinds)


def is_common(password: str, refused=()) -> bool:
    """Whether ``password`` is a common one (rule 4 of the module docstring) or one of ``refused``."""
    low = password.casefold()
    if low in COMMON_PASSWORDS or low in {r.casefold() for r in refused}:
        return True
    core = low.strip(_AROUND)
    if core in COMMON_WORDS:
        return True
    if not core and any(run in low for run in _RUNS):
        return True
    return len(set(low)) < 5 or _has_sequence(low)


def _has_sequence(low: str) -> bool:
    """Whether ``low`` holds ``_SEQUENCE_RUN`` characters in a row of a sequence, forwards or backwards."""
    for seq in _SEQUENCES:
        for text in (seq, seq[::-1]):
            if any(text[i:i + _SEQUENCE_RUN] in low for i in range(len(text) - _SEQUENCE_RUN + 1)):
                return True
    return False


def contains_username(password: str, username: str) -> bool:
    """Whether ``password`` contains ``username`` (rule 3 of the module docstring), without case."""
    low, name = password.casefold(), (username or "").strip().casefold()
    if not name:
        return False
    names = {name, name.split("@", 1)[0]} if "@" in name else {name}
    return any(n == low or (len(n) >= 3 and n in low) for n in names if n)


def check_password(password: str, username: str = "", refused=()) -> str:
    """``password`` when it follows the rule (module docstring); DataValidationError naming the rule broken."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        got = len(password) if isinstance(password, str) else 0
        raise DataValidationError(f"密码至少需要{MIN_LENGTH}个字符（现为{got}个）")
    if len(password) < LONG_ENOUGH and character_classes(password) < MIN_CLASSES:
        raise DataValidationError(
            f"密码须包含小写字母、大写字母、数字、符号中的至少{MIN_CLASSES}类（现为{character_classes(password)}类），"
            f"或长度不少于{LONG_ENOUGH}个字符")
    if contains_username(password, username):
        raise DataValidationError("密码不能包含用户名")
    if is_common(password, refused):
        raise DataValidationError("密码过于常见或过于简单（如 Password123、Admin@123、12345678、gulou 加数字等），请换一个")
    return password
