"""The Dutch phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP2, GAP3, GAP4, Language

_NL_MY = r"(mijn|al mijn|onze|al onze)"
_NL_DATA = (
    rf"{_NL_MY} (persoonlijke )?(gegevens|persoonsgegevens|data|klantgegevens|accountgegevens"
    r"|informatie)"
)
_NL_ACCOUNT = rf"({_NL_DATA}|{_NL_MY} (account|profiel|klantaccount|bestelgeschiedenis))"
_NL_ADS = (
    r"(mails|e mails|emails|berichten|nieuwsbrief|nieuwsbrieven|reclame|aanbiedingen|sms"
    r"|sms jes|promoties|spam|notificaties)"
)
DUTCH = Language(
    erasure=(
        rf"\b(verwijder|verwijderen|verwijdert|wis|wissen|schrap|schrappen){GAP2}"
        rf" {_NL_ACCOUNT}\b",
        rf"\b{_NL_ACCOUNT}{GAP3} (verwijderen|wissen|schrappen)\b",
        r"\brecht (op|om) (vergetelheid|vergeten te worden|verwijdering|gegevenswissing)\b",
        rf"\b(verwijdering|wissing) van {_NL_ACCOUNT}\b",
        r"\b(verwijderverzoek|verwijderingsverzoek)\b",
    ),
    export=(
        r"\b(exporteren|exporteer|downloaden|download|opvragen|inzien|ontvangen|krijgen|sturen"
        rf"|stuur|toesturen|opsturen|kopie van){GAP2} {_NL_DATA}\b",
        rf"\b{_NL_DATA}{GAP2} (exporteren|downloaden|opvragen|inzien|ontvangen|krijgen"
        r"|toesturen|opsturen|sturen)\b",
        r"\b(inzageverzoek|recht op inzage|recht van inzage|recht op dataportabiliteit)\b",
    ),
    opt_out=(
        r"\bafmeld\w*|\bafgemeld\b|\buitschrijv\w*|\buitgeschreven\b",
        r"\bmeld( ik| u| je)? (me|mij|ons)( \w+){0,4} af\b",
        r"\bschrijf( ik| u| je)? (me|mij|ons)( \w+){0,4} uit\b",
        r"\bnieuwsbrief opzeggen\b|\bopzeggen (van )?(de|jullie|uw) nieuwsbrief\b",
        r"\bstop (met )?(het )?(sturen|mailen|versturen|sms en|bellen|benaderen)\b",
        rf"\bstop (met )?(de |jullie |die )?{_NL_ADS}\b",
        r"\b(haal|verwijder) (me|mij|ons)( \w+){0,2} (van|uit) (de|jullie|deze|uw)"
        r" (mailinglijst|lijst|verzendlijst|nieuwsbrief|mailing)\b",
    ),
    opt_out_negative=(
        rf"\bgeen{GAP2} {_NL_ADS} meer\b",
        r"\bniet meer( \w+){0,2} (mailen|sturen|benaderen|contacteren|ontvangen|bellen"
        r"|lastigvallen)\b",
        r"\bstuur (me|mij|ons) (geen|niets|niks)( \w+){0,2} meer\b",
    ),
    erasure_described=(
        rf"\b(verwijder|wis|gewist|schrap|geschrapt)\w*{GAP2} (gegevens|data|account"
        r"|profiel|persoonsgegevens|alles)\b",
        rf"\b(gegevens|data|account|profiel|persoonsgegevens){GAP3} (verwijderd|gewist"
        r"|geschrapt)\b",
        r"\bwat (gebeurt|gebeurd|doen|doet|gaat)( \w+){0,3} met (mijn|de|onze|al mijn)"
        r" (gegevens|data|persoonsgegevens|account)\b",
        rf"\b(bewaren|bewaart|opslaan|houden|houdt){GAP3} (gegevens|data|persoonsgegevens)\b",
        rf"\b(gegevens|data|persoonsgegevens){GAP3} (bewaard|opgeslagen|bewaren)\b",
    ),
    export_described=(
        rf"\bwelke (gegevens|data|informatie|persoonsgegevens){GAP4} (van|over) (mij|ons)\b",
    ),
    questions=(
        r"\b(hoe|waarom|wanneer|welke)\b",
        r"\bwaar (kan|vind|is|zijn)\b",
        r"\bwat (gebeurt|gebeurd|doen|doet|is|zijn|als|moet|gaat|kan)\b",
        r"\b(is|zou) het mogelijk\b|\bkan het\b|\bbestaat de mogelijkheid\b",
        r"\b(worden|werden) (mijn|de|alle|onze|jullie)\b|\bwordt (mijn|het|de)\b",
        r"\b(verwijderen|bewaren|wissen|verwijdert|bewaart|gebruiken) (jullie|u|je)\b",
        r"\b(wil|zou) (ik )?(graag )?(willen )?weten\b|\bvraag me af\b|\bbenieuwd\b",
    ),
    conditions=(
        r"\b(als|indien|zodra|wanneer)\b(?! (het kan|mogelijk|dat kan|het mogelijk is|u wilt"
        r"|je wilt)\b)(?= (ik|we|wij|u|je|jij|mijn|het|de|jullie|er)\b)",
    ),
    polite_requests=(
        r"\b(kunnen|kunt|kun|kan|zou|zouden|wilt|willen|wil) (jullie|u|je|jij)\b",
        r"\b(kan|mag|kunnen|mogen) (ik|we|wij)\b.{0,50}\b(krijgen|ontvangen|hebben|opvragen"
        r"|aanvragen)\b",
    ),
    may_i=(r"\b(kan|mag|kunnen|mogen) (ik|we|wij|men)\b",),
    question_openers=(r"is|zijn|worden|wordt|hebben|heeft|verwijderen|bewaren",),
    negators=(r"niet|nooit|geen|zonder|niets|niks",),
    negators_after=("niet", "nooit"),
    contrasts=("maar", "echter"),
    answer_no="nee",
    politeness=(r"alsjeblieft|alstublieft|aub|a u b|graag|bedankt|dank je|dank u|dankjewel",),
    opt_out_keywords=("afmelden", "uitschrijven", "opzeggen", "afmelding", "uitschrijving"),
)
