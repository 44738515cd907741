"""How each language asks for, refuses and asks about erasure, export and opting out. Pure.

The tables only; `streams.flow.data_asks` decides what a message means from them. Every
pattern is matched against `normalise`d text: accents folded, case folded, punctuation and
emoji turned into single spaces ("Don't" → "don t", "l'oubli" → "l oubli"), except that a
comma in the original is kept as " , " so that "Sí, borren…" is not read as "if".

Each language lists, by topic, the wording of a request ("delete my data"), the wording
that only describes ("will my data be deleted", "what happens to my data": never a request),
and the words around it that make it a question, a negation or a polite request. Opt-out
requests are often worded with a negation ("no more emails", "keine Werbung mehr"); those
are kept apart so that their "no" is not read as refusing anything.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """The phrases of one language; each string is a regular expression."""

    erasure: tuple[str, ...]
    export: tuple[str, ...]
    opt_out: tuple[str, ...]
    # Opt-out requests worded with a negation: their own "no" refuses nothing.
    opt_out_negative: tuple[str, ...]
    # Naming the topic without asking for it: at most a question or a negation.
    erasure_described: tuple[str, ...]
    export_described: tuple[str, ...]
    # Anywhere in the sentence: the customer asks about the policy.
    questions: tuple[str, ...]
    conditions: tuple[str, ...]
    # Opening before the phrase ends: a request even with a "?" ("can you …?", "can I get …?").
    polite_requests: tuple[str, ...]
    # Before the topic: asking whether one may ("can I delete …?"), unless polite.
    may_i: tuple[str, ...]
    # At the start of a clause, when there is no "?": a yes/no question.
    question_openers: tuple[str, ...]
    negators: tuple[str, ...]
    # Negations that follow the verb they negate ("verwijder mijn gegevens niet").
    negators_after: tuple[str, ...]
    # What comes after these is said in its own right ("don't X but Y").
    contrasts: tuple[str, ...]
    # "No" as a whole answer: in "No, delete my data" it refuses nothing that follows.
    answer_no: str
    politeness: tuple[str, ...]
    # Carrier-style opt-out keywords: the whole message, once politeness is dropped.
    opt_out_keywords: tuple[str, ...]


# Up to n words between a verb and its object ("delete all of my data", "löschen Sie bitte
# meine Daten"); each language names its objects once so that its patterns stay readable.
_GAP2 = r"( \w+){0,2}"
_GAP3 = r"( \w+){0,3}"
_GAP4 = r"( \w+){0,4}"

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
        rf"\b(data|information|info|account|profile|details|records|history){_GAP3}"
        r" (deleted|erased|removed|wiped|purged|destroyed)\b",
        r"\b(keep|keeps|kept|store|stores|stored|retain|retains|retained|hold|holds)( (my|our"
        r"|your|the|all|personal|customer|user|any))* (data|information|info)\b",
        r"\bwhat (happens|happened|will happen|would happen) (to|with) (all )?(my|our|the|your"
        r"|customer) (data|information|info|account)\b",
        r"\bwhat (do|will|would) you do with (all )?(my|our|the) (data|information|info)\b",
        r"\b(account|data) (deletion|erasure|removal)\b",
    ),
    export_described=(
        rf"\bwhat (personal )?(data|information|info){_GAP4} (about|on|of) (me|us)\b",
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
        rf"\b{_DE_ACCOUNT}{_GAP4} (losch|loesch|entfern)",
        r"\brecht auf (vergessen|loschung|loeschung)",
        r"\b(losch|loschungs)(antrag|anfrage|ersuchen|auftrag)\b",
        rf"\b(mochte|mochten|will|wollen|wunsche|wunschen|verlange){_GAP2} (dass )?"
        rf"{_DE_ACCOUNT}( \w+)? (geloscht|entfernt)\b",
    ),
    export=(
        r"\b(datenauskunft|selbstauskunft|auskunftsersuchen|auskunftsanfrage|auskunftsantrag"
        r"|datenkopie|datenexport)\b",
        r"\brecht auf (auskunft|datenubertragbarkeit)\b",
        r"\bauskunft (uber|zu) (meine|meinen|die|alle|unsere)( \w+)? daten\b",
        rf"\b(kopie|auszug|export|ubersicht|auflistung|herausgabe) {_DE_DATA}\b",
        rf"\b{_DE_DATA}{_GAP2} (exportieren|herunterladen|herunterzuladen|zusenden|zuzusenden"
        r"|zuschicken|schicken|senden|erhalten|bekommen|anfordern|einsehen|sehen|haben)\b",
        rf"\b(exportier|herunterlad|schick|send|zusend|ubermittel)\w*{_GAP2} {_DE_DATA}\b",
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
        rf"\bkeine{_GAP2} {_DE_ADS} mehr\b",
        r"\b(nichts|nicht) mehr( \w+){0,2} (schicken|senden|zusenden|schreiben|kontaktieren"
        r"|anschreiben|mailen|erhalten|bekommen)\b",
        r"\b(schick|send)\w*( sie| ihr)? (mir|uns) (nichts|keine \w+) mehr\b",
    ),
    erasure_described=(
        rf"\b(losch|loesch|entfern|geloscht|geloescht)\w*{_GAP2} (daten|konto|kundenkonto"
        r"|account|profil|alles)\b",
        rf"\b(daten|konto|kundenkonto|account|profil){_GAP3} (geloscht|geloescht|entfernt)\b",
        r"\bwas (passiert|geschieht|macht ihr|machen sie|tut ihr|tun sie)( \w+){0,2} mit"
        r" (meinen|den|unseren|allen|meinem|ihren) (daten|konto|account|kundendaten)\b",
        rf"\b(speicher|aufbewahr|behalt|bewahr)\w*{_GAP3} daten\b",
        rf"\bdaten{_GAP3} (gespeichert|aufbewahrt|behalten)\b",
    ),
    export_described=(
        rf"\b(welche|was fur)( \w+)? (daten|informationen){_GAP4} (uber|von) (mir|mich|uns)\b",
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

_ES_MY = r"(mis|mi|todos mis|todas mis|toda mi|nuestros|nuestras|nuestra|nuestro)"
_ES_DATA = rf"{_ES_MY} (datos|datos personales|informacion|informacion personal)"
_ES_ACCOUNT = rf"({_ES_DATA}|{_ES_MY} (cuenta|perfil|historial|registro))"
_ES_ADS = (
    r"(correos|mensajes|emails|e mails|mails|publicidad|ofertas|promociones|newsletters?"
    r"|boletines|sms|notificaciones|comunicaciones)"
)
SPANISH = Language(
    erasure=(
        r"\b(borrar|eliminar|suprimir|borren|eliminen|supriman|borra|elimina|borrad|eliminad"
        rf"|borre|elimine|suprima|borrame|eliminame|borrenme|eliminenme){_GAP2} {_ES_ACCOUNT}\b",
        r"\bderecho (al olvido|de supresion|de borrado|a la supresion|de cancelacion)\b",
        rf"\b(eliminacion|supresion|borrado|baja definitiva) (de|del)( \w+)? {_ES_ACCOUNT}\b",
    ),
    export=(
        r"\b(exportar|exporten|descargar|obtener|recibir|enviarme|mandarme|envienme|mandenme|enviar"
        rf"|mandar|ver|consultar|acceder a|acceso a|copia de|copia){_GAP2} {_ES_DATA}\b",
        r"\bderecho (de acceso|a la portabilidad|de portabilidad)\b",
    ),
    opt_out=(
        r"\b(dar|darme|darse|darnos|den|denme|deme|doy|da|dan|dado|dada|des) de baja\b",
        r"\bdesuscrib\w*|\bdesinscrib\w*|\bdesuscripcion\b",
        r"\b(cancelar|anular) (la |mi )?suscripcion\b",
        r"\bdejen de (enviar|mandar|escribir)\w*",
        r"\b(quitar|sacar|eliminar|borrar)(me|nos)? de (la|su|vuestra|sus) (lista|listas)\b",
    ),
    opt_out_negative=(
        r"\bno (me |nos )?(envien|manden|escriban|contacten|envies|mandes|envieis|mandeis)"
        r"( \w+)? mas\b",
        r"\bno (quiero|deseo) (recibir |que me (envien|manden) )?(mas |ningun |ninguna"
        rf" |ningunos |ningunas )?{_ES_ADS}\b",
        r"\bno quiero recibir (nada )?mas\b",
    ),
    erasure_described=(
        rf"\b(borr|elimin|suprim)\w*{_GAP2} (datos|cuenta|perfil|informacion|todo)\b",
        rf"\b(datos|cuenta|perfil|informacion){_GAP3} (borrad|eliminad|suprimid)\w*",
        r"\bque (pasa|ocurre|sucede|pasara|pasaria|hacen|haceis|harian|haran)( \w+){0,2}"
        r" (con|a) (mis|los|nuestros|mi) (datos|cuenta|informacion)\b",
        rf"\b(guard|conserv|almacen|mantien|manten)\w*{_GAP3} datos\b",
    ),
    export_described=(rf"\bque (datos|informacion){_GAP4} (de|sobre) (mi|nosotros)\b",),
    questions=(
        r"(^|, )como\b",
        r"\bcomo (puedo|podria|podemos|hago|se|hacer|funciona|solicito|pido|me|borro|elimino"
        r"|descargo|exporto|obtengo|cancelo)\b",
        r"\bque (pasa|ocurre|sucede|pasaria|pasara|hacen|haceis|harian|haran)\b",
        r"\b(por que|cuanto tiempo|cuantos dias)\b",
        r"\bcuando (se|van|me|borran|eliminan|seran|sera)\b",
        r"\bdonde (puedo|se|esta|estan)\b",
        r"\bcual(es)? (es|son)\b",
        r"\b(es|seria) posible\b|\bse pueden?\b|\bhay (alguna )?(forma|manera|opcion"
        r"|posibilidad)\b|\bexiste la posibilidad\b",
        r"\bvan a (borrar|eliminar|suprimir|dejar|seguir|guardar|conservar)\b",
        r"\b(quiero|quisiera|me gustaria) saber\b",
    ),
    # "si" is the same word in French: its one pattern is under FRENCH.
    conditions=(r"\ben caso de\b",),
    polite_requests=(
        # "se puede(n)" is "is it possible", not a polite "can you".
        r"(?<!se )\b(pueden|podrian|puede|podria|podrias|puedes|podeis|podriais)\b",
        r"\b(puedo|podria|podemos)( \w+)? (obtener|recibir|tener|conseguir|pedir|solicitar)\b",
    ),
    may_i=(r"\b(puedo|podemos|se puede|se pueden)\b",),
    question_openers=(r"hay|es|son|van|tienen|borran|eliminan|guardan",),
    negators=(r"no|nunca|jamas|ni|tampoco|sin|nada",),
    negators_after=(),
    contrasts=("pero", "sino"),
    answer_no="no",
    politeness=(r"por favor|gracias",),
    opt_out_keywords=("alto", "baja", "parar", "cancelar", "desuscribir", "desinscribir"),
)

_FR_MY = r"(mes|mon|ma|toutes mes|tous mes|l ensemble de mes|nos|notre)"
_FR_DATA = rf"{_FR_MY} (donnees|donnees personnelles|informations|informations personnelles)"
_FR_ACCOUNT = rf"({_FR_DATA}|{_FR_MY} (compte|profil|historique))"
_FR_ADS = (
    r"(mails|e mails|emails|messages|pubs?|publicites?|newsletters?|sms|offres|promotions"
    r"|notifications)"
)
# Only words that keep the verb on the data: "supprimer un article de mon compte" is not.
_FR_GAP = (
    r"( (pas|jamais|surtout|definitivement|completement|totalement|entierement|immediatement"
    r"|svp|bien|aussi|egalement|donc|moi))*"
)
FRENCH = Language(
    erasure=(
        r"\b(supprimer|effacer|supprimez|effacez|supprimiez|effaciez|retirer|retirez|detruire"
        rf"|detruisez){_FR_GAP} {_FR_ACCOUNT}\b",
        r"\bdroit (a l ?oubli|a l ?effacement|d ?effacement|de suppression)\b",
        rf"\b(suppression|effacement)( definitive| complete| totale)? (de|des) {_FR_ACCOUNT}\b",
    ),
    export=(
        r"\b(exporter|exportez|telecharger|recevoir|obtenir|consulter|acceder a|m envoyer"
        r"|envoyez moi|envoyer|transmettre|transmettez moi|copie de|copie complete de"
        r"|communication de)"
        rf"{_GAP2} {_FR_DATA}\b",
        r"\bdroit (d ?acces|a la portabilite)\b",
    ),
    opt_out=(
        r"\bdesabonn\w*|\bdesinscri\w*",
        r"\barret(ez|er) (de m envoyer|d envoyer|de m ecrire|de me contacter|les (mails"
        r"|e mails|emails|messages|sms|newsletters?|notifications|pubs?|publicites))\b",
        r"\b(retirez|enlevez|supprimez) (moi|nous) (de|des) (la|vos|votre|ces|cette) (liste"
        r"|listes|newsletter|mailing|diffusion)\b",
        r"\bme (retirer|enlever) (de|des)\b",
    ),
    opt_out_negative=(
        # "ne plus" (no longer) is enough; "ne pas recevoir" needs what is not to come, so
        # that "je ne veux pas recevoir une copie de mes données" stays a refused export.
        r"\bne (veux |souhaite |desire |voudrais )?plus( \w+){0,2} (recevoir|etre contacte)",
        rf"\bne (veux |souhaite |desire |voudrais )?pas( \w+){{0,2}} recevoir{_GAP2} {_FR_ADS}\b",
        r"\b(ne m|n|ne nous) (envoyez|envoyer|ecrivez|contactez) plus\b",
        r"\bne plus (me |nous )?(contacter|ecrire|envoyer)\b",
        r"\bplus de (mails|e mails|emails|messages|pub|pubs|publicite|publicites|newsletters?"
        r"|sms|offres|promotions)\b",
    ),
    erasure_described=(
        rf"\b(supprim|effac|detrui)\w*{_GAP2} (donnees|compte|profil|informations|tout)\b",
        rf"\b(donnees|compte|profil|informations){_GAP3} (supprime|supprimee|supprimes"
        r"|supprimees|efface|effacee|effaces|effacees|detruites|detruit)\b",
        r"\bque (faites|fait|ferez|feriez|allez|devient|deviennent)( \w+){0,3} (de |avec )?"
        r"(mes|les|nos|mon) (donnees|compte|informations)\b",
        r"\bqu (advient|arrive|arrivera|adviendra)( \w+){0,2} (a |de |avec )?(mes|les|nos"
        r"|mon) (donnees|compte|informations)\b",
        rf"\b(conserv|gard|stock)\w*{_GAP3} (mes |les |nos |vos )?donnees\b",
    ),
    export_described=(rf"\bquelles (donnees|informations){_GAP4} (sur|de) (moi|nous)\b",),
    questions=(
        r"\b(comment|pourquoi|quand|combien)\b",
        r"\bquel(le)?s?\b",
        r"\bque (faites|fait|ferez|feriez|allez|devient|deviennent|se passe)\b"
        r"|\bqu (advient|arrive|arrivera|adviendra|en est)\b",
        r"\b(est|serait) il possible\b|\bpeut on\b|\by a t il (un|une) (moyen|possibilite"
        r"|option)\b|\bexiste t il\b",
        r"\b(supprimez|effacez|conservez|gardez|stockez|supprimerez|effacerez|allez) vous\b",
        r"\b(voudrais|aimerais|veux|souhaite|souhaiterais) savoir\b|\bsavoir si\b",
        r"\b(seront|sera|vont)( t)? (elles|ils|elle|il)\b",
    ),
    conditions=(
        # Spanish and French "si" in one pattern, so that neither language's "if possible"
        # counts as a condition through the other's pattern.
        r"\bsi\b(?! (possible|c est possible|vous pouvez|vous le pouvez|es posible|se puede"
        r"|puede ser|no es molestia|fuera posible)\b)(?= \w)",
        r"\bs il\b(?! (vous|te) plait\b)",
        r"\bau cas ou\b",
        r"\b(quand|lorsque|lorsqu) (je|j|nous|on)\b",
    ),
    polite_requests=(
        r"\b(pouvez|pourriez|voulez|voudriez|peux|pourrais|veux|voudrais) (vous|tu)\b",
        r"\bvous (pouvez|pourriez|voulez|voudriez)\b",
        r"\b(je peux|je pourrais|puis je|pourrais je|pouvons nous|nous pouvons|peut on)"
        r"( \w+)? (avoir|obtenir|recevoir|demander)\b",
    ),
    may_i=(r"\b(puis je|je peux|je pourrais|pourrais je|peut on|on peut|pouvons nous)\b",),
    question_openers=(r"est ce|avez vous|y a t il|est il|allez vous",),
    negators=(r"ne|n|pas|jamais|aucun|aucune|sans|rien|ni",),
    negators_after=("pas", "jamais"),
    contrasts=("mais", "plutot", "cependant"),
    answer_no="non",
    politeness=(r"svp|stp|s il vous plait|s il te plait|merci",),
    opt_out_keywords=("arret", "arreter", "desabonner", "desinscrire"),
)

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
        rf"\b(verwijder|verwijderen|verwijdert|wis|wissen|schrap|schrappen){_GAP2}"
        rf" {_NL_ACCOUNT}\b",
        rf"\b{_NL_ACCOUNT}{_GAP3} (verwijderen|wissen|schrappen)\b",
        r"\brecht (op|om) (vergetelheid|vergeten te worden|verwijdering|gegevenswissing)\b",
        rf"\b(verwijdering|wissing) van {_NL_ACCOUNT}\b",
        r"\b(verwijderverzoek|verwijderingsverzoek)\b",
    ),
    export=(
        r"\b(exporteren|exporteer|downloaden|download|opvragen|inzien|ontvangen|krijgen|sturen"
        rf"|stuur|toesturen|opsturen|kopie van){_GAP2} {_NL_DATA}\b",
        rf"\b{_NL_DATA}{_GAP2} (exporteren|downloaden|opvragen|inzien|ontvangen|krijgen"
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
        rf"\bgeen{_GAP2} {_NL_ADS} meer\b",
        r"\bniet meer( \w+){0,2} (mailen|sturen|benaderen|contacteren|ontvangen|bellen"
        r"|lastigvallen)\b",
        r"\bstuur (me|mij|ons) (geen|niets|niks)( \w+){0,2} meer\b",
    ),
    erasure_described=(
        rf"\b(verwijder|wis|gewist|schrap|geschrapt)\w*{_GAP2} (gegevens|data|account"
        r"|profiel|persoonsgegevens|alles)\b",
        rf"\b(gegevens|data|account|profiel|persoonsgegevens){_GAP3} (verwijderd|gewist"
        r"|geschrapt)\b",
        r"\bwat (gebeurt|gebeurd|doen|doet|gaat)( \w+){0,3} met (mijn|de|onze|al mijn)"
        r" (gegevens|data|persoonsgegevens|account)\b",
        rf"\b(bewaren|bewaart|opslaan|houden|houdt){_GAP3} (gegevens|data|persoonsgegevens)\b",
        rf"\b(gegevens|data|persoonsgegevens){_GAP3} (bewaard|opgeslagen|bewaren)\b",
    ),
    export_described=(
        rf"\bwelke (gegevens|data|informatie|persoonsgegevens){_GAP4} (van|over) (mij|ons)\b",
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

_PT_MY = r"((todos )?(os )?meus|(a )?minha|(o )?meu|(as )?minhas|(os )?nossos|(a )?nossa)"
_PT_DATA = rf"{_PT_MY} (dados|dados pessoais|informacoes|informacoes pessoais)"
_PT_ACCOUNT = rf"({_PT_DATA}|{_PT_MY} (conta|perfil|cadastro|historico))"
_PT_ADS = (
    r"(mensagens|emails|e mails|mails|propaganda|propagandas|promocoes|ofertas|newsletters?"
    r"|sms|notificacoes|publicidade)"
)
PORTUGUESE = Language(
    erasure=(
        r"\b(apagar|excluir|eliminar|deletar|remover|apaguem|excluam|eliminem|deletem|removam"
        r"|apague|exclua|elimine|delete|remova|apaga|exclui|elimina|deleta|remove)"
        rf"{_GAP2} {_PT_ACCOUNT}\b",
        r"\bdireito (ao esquecimento|de eliminacao|ao apagamento|de exclusao|a eliminacao)\b",
        rf"\b(exclusao|eliminacao|remocao|apagamento) (de|dos|da|do|das) {_PT_ACCOUNT}\b",
    ),
    export=(
        r"\b(exportar|exportem|exporte|baixar|receber|obter|acessar|ver|consultar|enviar"
        rf"|mandar|enviem|mandem|envie|mande|copia){_GAP2} (de |dos |das |da |do )?{_PT_DATA}\b",
        r"\bdireito (de acesso|a portabilidade|de portabilidade)\b",
    ),
    opt_out=(
        r"\bdescadastr\w*",
        r"\bcancelar (a |minha )?inscricao\b",
        r"\bparem de (me )?(enviar|mandar)\b|\bparar de receber\b",
        r"\bsair da (lista|newsletter|mailing)\b",
        r"\b(me )?(tirem|tire|remova|removam|retirem|retire)( me)? da (lista|newsletter"
        r"|mailing)\b",
        r"\bcancelar (a |minha )?assinatura (da|de|do|das) (newsletter|emails|e mails"
        r"|mensagens|promocoes)\b",
    ),
    opt_out_negative=(
        r"\bnao quero mais receber\b",
        rf"\bnao quero receber( mais)?{_GAP2} {_PT_ADS}\b",
        r"\bnao (me )?(enviem|mandem|envie|mande) mais\b",
        rf"\bchega de {_PT_ADS}\b",
    ),
    erasure_described=(
        rf"\b(apag|exclu|elimin|delet|remov)\w*{_GAP2} (dados|conta|cadastro|perfil|tudo)\b",
        rf"\b(dados|conta|cadastro|perfil){_GAP3} (apagad|excluid|eliminad|deletad|removid)\w*",
        r"\b(o que|que) (acontece|vai acontecer|acontecera|voces fazem|e feito|fazem|faz)"
        r"( \w+){0,2} (com|de) (os |as |a |o )?(meus |minhas |minha |meu |nossos )?(dados"
        r"|conta|cadastro|informacoes)\b",
        rf"\b(guard|armazen|mant)\w*{_GAP3} (os |meus |os meus )?dados\b",
    ),
    export_described=(rf"\bquais (dados|informacoes){_GAP4} (sobre|de) (mim|nos)\b",),
    questions=(
        r"(^|, )como\b",
        r"\bcomo (faco|faz|posso|podemos|eu|se|e que|funciona|fazer|consigo|solicito|peco"
        r"|apago|excluo|baixo|cancelo|saio|me)\b",
        r"\bo que (acontece|vai|voces|e feito|fazem|faz)\b|\bque acontece\b",
        r"\b(quanto tempo|por que)\b",
        r"\bquando (os|meus|voces|e|sao|vao|serao|sera)\b",
        r"\bonde (posso|eu|fica|ficam)\b",
        r"\b(qual|quais)\b",
        r"\b(e|seria) possivel\b|\bda para\b|\btem como\b|\bexiste (a )?(possibilidade"
        r"|alguma forma)\b|\bha (alguma )?(forma|maneira)\b",
        r"\b(vao|irao|vai) (apagar|excluir|continuar|parar|guardar|manter)\b",
        r"\b(quero|queria|gostaria de) saber\b",
        r"\b(voces|vcs) (apagam|excluem|guardam|mantem|armazenam)\b",
    ),
    conditions=(
        # "se" + a subject or an infinitive: "se eu cancelar", "se cancelar"; not "se possível".
        r"\bse\b(?! (possivel|for possivel|puder|puderem|nao for incomodo)\b)(?= (eu|nos|voce"
        r"|voces|a gente|\w+(ar|er|ir))\b)",
        r"\bcaso (eu|voce|voces|a gente|nos)\b|\bno caso de\b",
    ),
    polite_requests=(
        r"\b(voces|voce|vc|vcs|o senhor|a senhora) (podem|pode|poderiam|poderia|conseguem"
        r"|consegue)\b",
        r"(?<!se )\b(podem|pode|poderiam|poderia|podes|poderias|conseguem)\b(?! se\b)",
        r"\b(posso|podemos|consigo)( \w+)? (receber|obter|ter|pedir|solicitar)\b",
    ),
    may_i=(r"\b(posso|podemos|pode se|consigo)\b",),
    question_openers=(r"sao|tem|vao",),
    negators=(r"nao|nunca|jamais|nem|sem|nada",),
    negators_after=("nao",),
    contrasts=("porem", "contudo", "todavia", "entretanto"),
    answer_no="nao",
    politeness=(r"por favor|obrigad[oa]|pf|pfv",),
    opt_out_keywords=("pare", "sair", "descadastrar"),
)

LANGUAGES = (ENGLISH, GERMAN, SPANISH, FRENCH, DUTCH, PORTUGUESE)

# A data-protection law counts when the message asks for something under it ("GDPR
# request", "DSGVO Antrag", "Art. 15") or is only its name; "is your shop GDPR compliant?"
# is a question for the knowledge base. Which right is meant is unknown: export, the one
# that can be undone.
_LAWS = r"(gdpr|dsgvo|rgpd|lgpd|ccpa|avg)"
_LAW_ASKS = (
    r"(request|requesting|demand|anfrage|antrag|demande|solicitud|solicito|pedido|requisicao"
    r"|verzoek|aanvraag|my data|meine daten|mes donnees|mis datos|meus dados|mijn gegevens"
    r"|art(icle|ikel|iculo|igo)? ?1[57])"
)
LAW_REQUESTS = (rf"\b{_LAWS}{_GAP4} {_LAW_ASKS}\b", rf"\b{_LAW_ASKS}{_GAP4} {_LAWS}\b")
LAW_ALONE = r"(gdpr|dsgvo|rgpd|lgpd|ccpa)( request)?"

# German puts a comma before every subordinate clause; "Ich möchte, dass …" is one thought.
CLAUSE_CONTINUATIONS = r"(dass|ob|weil)\b"

# Words a sentence may start with before its question opener: "Hi, is my data …".
LEAD_INS = (
    r"hi|hello|hey|dear|ok|okay|so|and|also|please|hallo|hola|bonjour|salut|hoi|ola|oi|bitte"
    r"|por favor|svp|alsjeblieft|und|y|et|en|e"
)
