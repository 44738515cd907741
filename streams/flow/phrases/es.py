"""The Spanish phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP2, GAP3, GAP4, Language

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
        rf"|borre|elimine|suprima|borrame|eliminame|borrenme|eliminenme){GAP2} {_ES_ACCOUNT}\b",
        r"\bderecho (al olvido|de supresion|de borrado|a la supresion|de cancelacion)\b",
        rf"\b(eliminacion|supresion|borrado|baja definitiva) (de|del)( \w+)? {_ES_ACCOUNT}\b",
    ),
    export=(
        r"\b(exportar|exporten|descargar|obtener|recibir|enviarme|mandarme|envienme|mandenme|enviar"
        rf"|mandar|ver|consultar|acceder a|acceso a|copia de|copia){GAP2} {_ES_DATA}\b",
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
        rf"\b(borr|elimin|suprim)\w*{GAP2} (datos|cuenta|perfil|informacion|todo)\b",
        rf"\b(datos|cuenta|perfil|informacion){GAP3} (borrad|eliminad|suprimid)\w*",
        r"\bque (pasa|ocurre|sucede|pasara|pasaria|hacen|haceis|harian|haran)( \w+){0,2}"
        r" (con|a) (mis|los|nuestros|mi) (datos|cuenta|informacion)\b",
        rf"\b(guard|conserv|almacen|mantien|manten)\w*{GAP3} datos\b",
    ),
    export_described=(rf"\bque (datos|informacion){GAP4} (de|sobre) (mi|nosotros)\b",),
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
    # "si" is the same word in French: its one pattern is under FRENCH (`fr.py`).
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
