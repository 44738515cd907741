"""The English phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP3, GAP4, Language

_EN_MY = r"(my|all my|all of my|our|all our|all of our)( (personal|account|customer|stored))?"
_EN_DATA = rf"{_EN_MY} (data|information|info|records)"
_EN_ACCOUNT = rf"({_EN_DATA}|{_EN_MY} (account|profile|details|order history|purchase history))"
_EN_ADS = (
    r"(messages|emails|e mails|mails|marketing|promotions|offers|newsletters?|texts|sms|spam"
    r"|notifications|ads)"
)
ENGLISH = Language(
    erasure=(
        r"\b(delete|erase|remove|wipe|destroy|purge|forget)( (all|everything|completely"
        rf"|permanently|entirely|fully|please|now|immediately|of|about))* {_EN_ACCOUNT}\b",
        r"\b(delete|erase|remove|forget) (everything|all) (about|on|of) (me|us)\b",
        r"\b(delete|erase|remove) (me|us) from (your|the|all) (database|databases|system"
        r"|systems|records|files|servers|crm)\b",
        r"\bright to (be forgotten|erasure|deletion)\b",
        rf"\b(want|like|need|have|get)( all)? {_EN_ACCOUNT}( \w+)? (deleted|erased|removed"
        r"|wiped|destroyed|purged)\b",
        rf"\b(deletion|erasure|removal) of {_EN_ACCOUNT}\b",
        r"\b(deletion|erasure) request\b",
    ),
    export=(
        r"\b(export|download|send me|email me|give me|see|view|access|receive|get|obtain"
        r"|request)( (a copy of|a copy|copies of|all of|all|of|an export of|an overview of"
        rf"|please))* {_EN_DATA}\b",
        rf"\b(a )?cop(y|ies) of {_EN_DATA}\b",
        rf"\b(want|like|need|have|get) {_EN_DATA}( \w+)? (exported|downloaded|sent)\b",
        r"\b(data subject|subject) access request\b|\bdsar\b|\bright (of|to) access\b"
        r"|\bright to (data )?portability\b",
    ),
    opt_out=(
        r"\bunsubscrib\w*",
        r"\bopt(ing|ed)?( me| us)? ?out\b",
        r"\bstop (sending|messaging|texting|contacting|emailing|e mailing|writing to|spamming"
        r"|calling|getting|receiving)\b",
        rf"\bstop( all| the| your| these| those| any)? {_EN_ADS}\b",
        r"\b(remove|take) (me|us) (off|from)\b",
        r"\bwithdraw (my )?(marketing )?consent\b",
    ),
    opt_out_negative=(
        rf"\bno more( \w+)? {_EN_ADS}\b",
        r"\b(don t|do not|dont|never)( ever)? (send|email|text|message|contact|spam|call)"
        rf"( me| us)?(( any)?( more)? {_EN_ADS}| anymore| again| any more)\b",
        rf"\b(don t|do not|dont) want( to (receive|get))?( any)?( more)? {_EN_ADS}\b",
    ),
    erasure_described=(
        r"\b(delet|eras|remov|wip|purg|destroy)\w*( (all|the|my|your|our|any|of|personal"
        r"|customer|user|stored|old|this|that|those|these|it|automatically|also|ever|really))*"
        r" (data|information|info|account|accounts|profile|details|records|history|everything"
        r"|anything)\b",
        rf"\b(data|information|info|account|profile|details|records|history){GAP3}"
        r" (deleted|erased|removed|wiped|purged|destroyed)\b",
        r"\b(keep|keeps|kept|store|stores|stored|retain|retains|retained|hold|holds)( (my|our"
        r"|your|the|all|personal|customer|user|any))* (data|information|info)\b",
        r"\bwhat (happens|happened|will happen|would happen) (to|with) (all )?(my|our|the|your"
        r"|customer) (data|information|info|account)\b",
        r"\bwhat (do|will|would) you do with (all )?(my|our|the) (data|information|info)\b",
        r"\b(account|data) (deletion|erasure|removal)\b",
    ),
    export_described=(
        rf"\bwhat (personal )?(data|information|info){GAP4} (about|on|of) (me|us)\b",
        r"\b(data|information) (export|download|portability)\b",
        r"\b(export|download)\w*( (my|our|the|all|personal|your))* (data|information)\b",
    ),
    questions=(
        r"\bhow (do|does|did|can|could|would|should|will|to|long|much|is|are|i|we)\b",
        r"\bwhat (happens|happened|will|would|do|does|did|is|are|was|if|data|information|info"
        r"|kind|about|s)\b",
        r"\b(why|whether)\b",
        r"\bwhen (will|do|does|did|is|are|was|would|can|should)\b",
        r"\bwhere (can|do|is|are|does)\b",
        r"\bwhich (data|information|details)\b",
        r"\b(is|are) (it|there) (possible|a way|any way|an option)\b|\bwould it be possible\b",
        # "would you" is left out: "would you erase my data?" is a polite request.
        r"\b(do|does|did|will) (you|u|your|they|we|i)\b",
        r"\b(does|did|will|would) (it|the|my|all|this|that)\b",
        r"\b(am i|are we) able to\b",
        r"\b(want|like|need) to know\b|\bwonder(ing)?\b|\bcurious\b",
    ),
    conditions=(
        r"\bif\b(?! (possible|you can|you could|you would|you don t mind|you dont mind"
        r"|that s ok|that s okay|that is ok|you please|so)\b)(?= \w)",
        r"\b(when|once|unless) (i|we)\b",
        r"\bin case\b",
    ),
    polite_requests=(
        r"\b(can|could|would) (you|u|ya|someone|somebody|anyone|your team)\b",
        r"\b(can|could|may|might) (i|we)( please| kindly)? (get|have|receive|obtain|request"
        r"|ask for)\b",
    ),
    may_i=(r"\b(can|could|may|might) (i|we)\b",),
    question_openers=(r"do|does|did|is|are|was|were|will|shall|should|have|has|am",),
    negators=(
        r"not|never|no|nor|neither|without|dont|didnt|doesnt|cant|cannot|wont|shouldnt"
        r"|wouldnt|isnt|arent|wasnt|havent|hasnt|\w+n t",
    ),
    negators_after=(),
    contrasts=("but", "instead", "rather", "however"),
    answer_no="no",
    politeness=(r"please|pls|plz|now|thanks|thank you",),
    opt_out_keywords=(
        "stop",
        "stop all",
        "stopall",
        "stop it",
        "unsubscribe",
        "unsub",
        "opt out",
        "optout",
        "cancel",
        "end",
        "quit",
    ),
)
