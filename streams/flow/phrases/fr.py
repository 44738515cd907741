"""The French phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP2, GAP3, GAP4, Language

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
        rf"{GAP2} {_FR_DATA}\b",
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
        rf"\bne (veux |souhaite |desire |voudrais )?pas( \w+){{0,2}} recevoir{GAP2} {_FR_ADS}\b",
        r"\b(ne m|n|ne nous) (envoyez|envoyer|ecrivez|contactez) plus\b",
        r"\bne plus (me |nous )?(contacter|ecrire|envoyer)\b",
        r"\bplus de (mails|e mails|emails|messages|pub|pubs|publicite|publicites|newsletters?"
        r"|sms|offres|promotions)\b",
    ),
    erasure_described=(
        rf"\b(supprim|effac|detrui)\w*{GAP2} (donnees|compte|profil|informations|tout)\b",
        rf"\b(donnees|compte|profil|informations){GAP3} (supprime|supprimee|supprimes"
        r"|supprimees|efface|effacee|effaces|effacees|detruites|detruit)\b",
        r"\bque (faites|fait|ferez|feriez|allez|devient|deviennent)( \w+){0,3} (de |avec )?"
        r"(mes|les|nos|mon) (donnees|compte|informations)\b",
        r"\bqu (advient|arrive|arrivera|adviendra)( \w+){0,2} (a |de |avec )?(mes|les|nos"
        r"|mon) (donnees|compte|informations)\b",
        rf"\b(conserv|gard|stock)\w*{GAP3} (mes |les |nos |vos )?donnees\b",
    ),
    export_described=(rf"\bquelles (donnees|informations){GAP4} (sur|de) (moi|nous)\b",),
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
