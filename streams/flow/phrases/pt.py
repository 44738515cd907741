"""The Portuguese phrase table for erasure, export and opting out. Pure."""

from __future__ import annotations

from streams.flow.phrases.common import GAP2, GAP3, GAP4, Language

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
        rf"{GAP2} {_PT_ACCOUNT}\b",
        r"\bdireito (ao esquecimento|de eliminacao|ao apagamento|de exclusao|a eliminacao)\b",
        rf"\b(exclusao|eliminacao|remocao|apagamento) (de|dos|da|do|das) {_PT_ACCOUNT}\b",
    ),
    export=(
        r"\b(exportar|exportem|exporte|baixar|receber|obter|acessar|ver|consultar|enviar"
        rf"|mandar|enviem|mandem|envie|mande|copia){GAP2} (de |dos |das |da |do )?{_PT_DATA}\b",
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
        rf"\bnao quero receber( mais)?{GAP2} {_PT_ADS}\b",
        r"\bnao (me )?(enviem|mandem|envie|mande) mais\b",
        rf"\bchega de {_PT_ADS}\b",
    ),
    erasure_described=(
        rf"\b(apag|exclu|elimin|delet|remov)\w*{GAP2} (dados|conta|cadastro|perfil|tudo)\b",
        rf"\b(dados|conta|cadastro|perfil){GAP3} (apagad|excluid|eliminad|deletad|removid)\w*",
        r"\b(o que|que) (acontece|vai acontecer|acontecera|voces fazem|e feito|fazem|faz)"
        r"( \w+){0,2} (com|de) (os |as |a |o )?(meus |minhas |minha |meu |nossos )?(dados"
        r"|conta|cadastro|informacoes)\b",
        rf"\b(guard|armazen|mant)\w*{GAP3} (os |meus |os meus )?dados\b",
    ),
    export_described=(rf"\bquais (dados|informacoes){GAP4} (sobre|de) (mim|nos)\b",),
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
