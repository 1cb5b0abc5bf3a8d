"""Member phones are stored in E.164 so '081-234-5678' and '+66812345678' are the same member."""

from __future__ import annotations


class PhoneError(ValueError):
    pass


def region_of(locale: str) -> str:
    """'th_TH' -> 'TH'; the store locale decides how a number without +country is read."""
    part = locale.replace("-", "_").split("_")[-1]
    return part.upper() if len(part) == 2 else "TH"


def normalise_phone(raw: str, region: str = "TH") -> str:
    import phonenumbers  # heavy; only the member prompt needs it, not start-up

    text = raw.strip()
    if not text:
        raise PhoneError("no phone number given")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(f"{raw!r} is not a valid phone number for {region}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
