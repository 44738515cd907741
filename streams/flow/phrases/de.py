"""The German phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP2, GAP3, GAP4, Language

_DE_MY = r"(meine[nmrs]?|mein|unsere[nmrs]?|unser|alle meine[nr]?|aller meiner)"
_DE_ADJ = r"( (personlichen|personenbezogenen|gesamten|ganzen|kompletten|gespeicherten))?"
_DE_DATA = rf"{_DE_MY}{_DE_ADJ} (daten|kundendaten|informationen)"
_DE_ACCOUNT = (
    rf"({_DE_DATA}|{_DE_MY} (konto|kontos|kundenkonto|kundenkontos|benutzerkonto|account"
    r"|accounts|profil|profils|bestellhistorie))"
)
# "entfernen Sie den Artikel aus meinem Konto" removes an article, not the account.
_DE_GAP = r"( (?!(aus|von|vom|im|in|bei)\b)\w+){0,4}"
_DE_ADS = (
    r"(werbung|nachrichten|newsletter|mails|e mails|emails|angebote|sms|werbemails"
    r"|benachrichtigungen|post)"
)
GERMAN = Language(
    erasure=(
        rf"\b(losch|loesch|entfern)\w*{_DE_GAP} {_DE_ACCOUNT}\b",
        rf"\b{_DE_ACCOUNT}{GAP4} (losch|loesch|entfern)",
        r"\brecht auf (vergessen|loschung|loeschung)",
        r"\b(losch|loschungs)(antrag|anfrage|ersuchen|auftrag)\b",
        rf"\b(mochte|mochten|will|wollen|wunsche|wunschen|verlange){GAP2} (dass )?"
        rf"{_DE_ACCOUNT}( \w+)? (geloscht|entfernt)\b",
    ),
    export=(
        r"\b(datenauskunft|selbstauskunft|auskunftsersuchen|auskunftsanfrage|auskunftsantrag"
        r"|datenkopie|datenexport)\b",
        r"\brecht auf (auskunft|datenubertragbarkeit)\b",
        r"\bauskunft (uber|zu) (meine|meinen|die|alle|unsere)( \w+)? daten\b",
        rf"\b(kopie|auszug|export|ubersicht|auflistung|herausgabe) {_DE_DATA}\b",
        rf"\b{_DE_DATA}{GAP2} (exportieren|herunterladen|herunterzuladen|zusenden|zuzusenden"
        r"|zuschicken|schicken|senden|erhalten|bekommen|anfordern|einsehen|sehen|haben)\b",
        rf"\b(exportier|herunterlad|schick|send|zusend|ubermittel)\w*{GAP2} {_DE_DATA}\b",
    ),
    opt_out=(
        r"\babmeld\w*|\babbestell\w*|\babgemeldet\b|\baustragen\b",
        r"\bmeld(e|en|et|ete)?( sie| ihr| du| ich)? (mich|uns)( \w+){0,4} ab\b",
        r"\b(trag|trage|tragen|tragt)( sie| ihr)? (mich|uns)( \w+){0,4} aus\b",
        r"\bnewsletter (kundigen|abbestellen|abmelden)\b",
        r"\b(hort|horen sie)( \w+){0,2} auf\b.{0,40}\bzu (schreiben|schicken|senden"
        r"|kontaktieren|mailen)\b",
        r"\bwiderruf\w*\b.{0,30}\b(einwilligung|einverstandnis|zustimmung)\b",
        r"\bwiderspruch gegen (die )?(werbung|nutzung)\b",
    ),
    opt_out_negative=(
        rf"\bkeine{GAP2} {_DE_ADS} mehr\b",
        r"\b(nichts|nicht) mehr( \w+){0,2} (schicken|senden|zusenden|schreiben|kontaktieren"
        r"|anschreiben|mailen|erhalten|bekommen)\b",
        r"\b(schick|send)\w*( sie| ihr)? (mir|uns) (nichts|keine \w+) mehr\b",
    ),
    erasure_described=(
        rf"\b(losch|loesch|entfern|geloscht|geloescht)\w*{GAP2} (daten|konto|kundenkonto"
        r"|account|profil|alles)\b",
        rf"\b(daten|konto|kundenkonto|account|profil){GAP3} (geloscht|geloescht|entfernt)\b",
        r"\bwas (passiert|geschieht|macht ihr|machen sie|tut ihr|tun sie)( \w+){0,2} mit"
        r" (meinen|den|unseren|allen|meinem|ihren) (daten|konto|account|kundendaten)\b",
        rf"\b(speicher|aufbewahr|behalt|bewahr)\w*{GAP3} daten\b",
        rf"\bdaten{GAP3} (gespeichert|aufbewahrt|behalten)\b",
    ),
    export_described=(
        rf"\b(welche|was fur)( \w+)? (daten|informationen){GAP4} (uber|von) (mir|mich|uns)\b",
    ),
    questions=(
        r"\b(wie|warum|wieso|weshalb|weswegen|wann|wozu|woher|ob)\b",
        r"\bwo (kann|finde|ist|sind)\b",
        r"\bwelche\w*\b",
        r"\bwas (passiert|geschieht|macht|machen|tut|tun|wird|werden|ist|sind|habt|haben"
        r"|speichert|speichern)\b",
        r"\b(ist|war|ware) es moglich\b|\bgibt es (eine |die |irgendeine )?(moglichkeit|option"
        r"|weg)\b|\bbesteht (die )?moglichkeit\b",
        r"\b(werden|wurden) (meine|die|alle|unsere|eure|ihre|mein)\b"
        r"|\bwird (mein|meine|das|die|der)\b",
        r"\b(mochte|mochten|will|wurde)( gerne| gern)? wissen\b",
        r"\b(loscht|speichert|behaltet|loschen) ihr\b",
    ),
    conditions=(
        r"\b(wenn|falls|sofern|sobald)\b(?! (moglich|es geht|das geht|es moglich ist"
        r"|notig)\b)(?= \w)",
        r"\bim falle?\b",
    ),
    polite_requests=(
        r"\b(konnen|konnten|wurden|wollen|konnt|konntet|kannst|konntest|wurdest|wurdet|willst"
        r"|wollt) (sie|ihr|du)\b",
        r"\b(kann|konnte|darf|konnen|durfen) (ich|wir)\b.{0,50}\b(bekommen|haben|erhalten"
        r"|bitten)\b",
    ),
    may_i=(r"\b(kann|konnte|darf|konnen|konnten|durfen) (ich|man|wir)\b",),
    question_openers=(r"ist|sind|werden|wird|gibt|habt|haben|hat|loscht|speichert",),
    negators=(
        r"nicht|nie|niemals|kein|keine|keinen|keinem|keiner|keinesfalls|keineswegs|nichts|ohne",
    ),
    negators_after=("nicht", "nie", "niemals"),
    contrasts=("aber", "sondern", "jedoch", "stattdessen"),
    answer_no="nein",
    politeness=(r"bitte|bitte schon|danke|danke schon|vielen dank",),
    opt_out_keywords=("stopp", "stoppen", "abmelden", "abbestellen"),
)
