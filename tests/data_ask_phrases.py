"""What a customer message says about erasure, export or opting out, in six languages.

Each row is a real phrasing and what it means: a request, a negation ("don't delete …"), a
question about the policy ("what happens to my data if …?"), or nothing of the kind. A
negation or a question must never be read as a request: a request starts erasing or
exporting (after a confirmation), a question only gets an explanation. Read by the unit
tests of the reading and by the chat's end-to-end test.
"""

from __future__ import annotations

from streams.flow.data_asks import DataAsk

ERASE = DataAsk("erasure", "request")
DONT_ERASE = DataAsk("erasure", "negation")
ASK_ERASE = DataAsk("erasure", "question")
EXPORT = DataAsk("export", "request")
DONT_EXPORT = DataAsk("export", "negation")
ASK_EXPORT = DataAsk("export", "question")
OPT_OUT = DataAsk("opt_out", "request")
DONT_OPT_OUT = DataAsk("opt_out", "negation")
ASK_OPT_OUT = DataAsk("opt_out", "question")

Row = tuple[str, DataAsk | None]

ENGLISH: list[Row] = [
    ("Delete my data", ERASE),
    ("Please delete my account and all my personal data", ERASE),
    ("Can you delete my data?", ERASE),
    ("Could you please delete my account", ERASE),
    ("Would you erase my data please", ERASE),
    ("I'd like my account deleted", ERASE),
    ("I want to exercise my right to be forgotten", ERASE),
    ("unsubscribe me and delete my data", ERASE),
    ("Export my data", EXPORT),
    ("Can I get a copy of my personal data?", EXPORT),
    ("Please send me a copy of all my data", EXPORT),
    ("GDPR request", EXPORT),
    ("GDPR", EXPORT),
    ("subject access request", EXPORT),
    ("DSAR", EXPORT),
    ("Unsubscribe me from your newsletter", OPT_OUT),
    ("Please stop sending me offers", OPT_OUT),
    ("STOP", OPT_OUT),
    ("Don't send me any more promotions", OPT_OUT),
    ("No more marketing emails please", OPT_OUT),
    ("Unsubscribe me, but don't delete my account", OPT_OUT),
    ("I can't log in, please delete my account", ERASE),
    ("Delete my data and do the same for my old account", ERASE),
    ("Please do NOT delete my data, I want to keep my order history", DONT_ERASE),
    ("don't delete my data!", DONT_ERASE),
    ("Please don't delete anything, I want to keep my order history", DONT_ERASE),
    ("I never asked you to delete my data", DONT_ERASE),
    ("Hi, how long does delivery take? Please do NOT delete my data", DONT_ERASE),
    ("I do not want my account deleted", DONT_ERASE),
    ("Please don't export my data anywhere", DONT_EXPORT),
    ("don't unsubscribe me", DONT_OPT_OUT),
    ("will you delete my data if I cancel?", ASK_ERASE),
    ("how do I delete my account data?", ASK_ERASE),
    ("Will my data be deleted if I close my account?", ASK_ERASE),
    ("What happens to my data if I cancel?", ASK_ERASE),
    ("Do you delete data automatically?", ASK_ERASE),
    ("Is it possible to delete my account?", ASK_ERASE),
    ("If I cancel, will you delete my data?", ASK_ERASE),
    ("Can I delete my account myself?", ASK_ERASE),
    ("How long do you keep my data?", ASK_ERASE),
    ("how can I download my data?", ASK_EXPORT),
    ("What data do you hold about me?", ASK_EXPORT),
    ("how do I unsubscribe?", ASK_OPT_OUT),
    ("Will you stop sending offers if I unsubscribe?", ASK_OPT_OUT),
    ("Can I opt out of marketing emails?", ASK_OPT_OUT),
    # Naming erasure without a verb of asking, or telling what happened: explained, not acted on.
    ("Account deletion please", ASK_ERASE),
    ("You deleted my account without asking!", ASK_ERASE),
    ("Can I stop by the store?", None),
    ("Is your shop GDPR compliant?", None),
    ("remove the lamp from my account wishlist", None),
    ("Where is my order?", None),
]

GERMAN: list[Row] = [
    ("Bitte löschen Sie meine Daten", ERASE),
    ("meine Daten löschen", ERASE),
    ("Können Sie meine Daten löschen?", ERASE),
    ("Löschen Sie mein Konto und alle meine persönlichen Daten", ERASE),
    ("Ich möchte, dass mein Kundenkonto gelöscht wird", ERASE),
    ("Ich berufe mich auf mein Recht auf Löschung", ERASE),
    ("Datenauskunft bitte", EXPORT),
    ("DSGVO Antrag", EXPORT),
    ("Bitte senden Sie mir eine Kopie meiner Daten", EXPORT),
    ("Kann ich eine Kopie meiner Daten bekommen?", EXPORT),
    ("Ich kann mich nicht einloggen, bitte löschen Sie mein Konto", ERASE),
    ("ABMELDEN", OPT_OUT),
    ("Bitte melden Sie mich vom Newsletter ab", OPT_OUT),
    ("keine Werbung mehr bitte", OPT_OUT),
    ("Löschen Sie bitte NICHT meine Daten", DONT_ERASE),
    ("Bitte meine Daten nicht löschen!", DONT_ERASE),
    ("Ich möchte nicht, dass mein Konto gelöscht wird", DONT_ERASE),
    ("Ich habe nie verlangt, meine Daten zu löschen", DONT_ERASE),
    ("Bitte meldet mich nicht ab, ich mag euren Newsletter", DONT_OPT_OUT),
    ("Ich möchte meine Daten nicht exportieren", DONT_EXPORT),
    ("Was passiert mit meinen Daten, wenn ich mein Konto kündige?", ASK_ERASE),
    ("Werden meine Daten gelöscht, wenn ich kündige?", ASK_ERASE),
    ("Wie kann ich mein Konto löschen?", ASK_ERASE),
    ("Löscht ihr Daten automatisch?", ASK_ERASE),
    ("Ist es möglich, mein Konto zu löschen?", ASK_ERASE),
    ("Kann ich meine Daten herunterladen?", ASK_EXPORT),
    ("Wie melde ich mich vom Newsletter ab?", ASK_OPT_OUT),
    ("Wo ist meine Bestellung?", None),
    ("Kann ich mit Karte bezahlen?", None),
]

SPANISH: list[Row] = [
    ("Borren mis datos", ERASE),
    ("Quiero borrar mis datos", ERASE),
    ("¿Pueden borrar mis datos?", ERASE),
    ("Por favor, eliminen mi cuenta", ERASE),
    ("Solicito la supresión de mis datos personales", ERASE),
    ("Ejerzo mi derecho al olvido", ERASE),
    ("Sí, borren mis datos", ERASE),
    ("Quiero una copia de mis datos", EXPORT),
    ("¿Me pueden enviar una copia de todos mis datos?", EXPORT),
    ("¿Puedo obtener una copia de mis datos?", EXPORT),
    ("BAJA", OPT_OUT),
    ("Quiero darme de baja de la newsletter", OPT_OUT),
    ("No me envíen más correos", OPT_OUT),
    ("No borren mis datos por favor", DONT_ERASE),
    ("Por favor, no eliminen mi cuenta", DONT_ERASE),
    ("Nunca pedí que borraran mis datos", DONT_ERASE),
    ("No quiero que eliminen mi cuenta, solo cambiar mi dirección", DONT_ERASE),
    ("No me den de baja, por favor", DONT_OPT_OUT),
    ("No necesito una copia de mis datos", DONT_EXPORT),
    ("¿Qué pasa con mis datos si cancelo?", ASK_ERASE),
    ("¿Cómo puedo borrar mi cuenta?", ASK_ERASE),
    ("¿Borran mis datos si cierro mi cuenta?", ASK_ERASE),
    ("¿Se pueden eliminar mis datos?", ASK_ERASE),
    ("¿Cuánto tiempo guardan mis datos?", ASK_ERASE),
    ("¿Cómo puedo descargar mis datos?", ASK_EXPORT),
    ("¿Cómo me doy de baja?", ASK_OPT_OUT),
    ("¿Dónde está mi pedido?", None),
    ("¿Aceptan PayPal?", None),
]

FRENCH: list[Row] = [
    ("Supprimez mes données", ERASE),
    ("Je veux supprimer mon compte", ERASE),
    ("Pouvez-vous supprimer mes données ?", ERASE),
    ("Merci d'effacer toutes mes données personnelles", ERASE),
    ("J'exerce mon droit à l'oubli", ERASE),
    ("Je demande la suppression de mon compte", ERASE),
    ("Je voudrais exporter mes données", EXPORT),
    ("Envoyez-moi une copie de mes données svp", EXPORT),
    ("Puis-je obtenir une copie de mes données ?", EXPORT),
    ("ARRÊT", OPT_OUT),
    ("je veux me désabonner", OPT_OUT),
    ("Je ne veux plus recevoir vos e-mails", OPT_OUT),
    ("Ne supprimez pas mes données", DONT_ERASE),
    ("Surtout n'effacez pas mon compte", DONT_ERASE),
    ("Je n'ai jamais demandé la suppression de mes données", DONT_ERASE),
    ("Ne me désabonnez pas s'il vous plaît", DONT_OPT_OUT),
    ("N'exportez pas mes données", DONT_EXPORT),
    ("Je ne veux pas recevoir une copie de mes données", DONT_EXPORT),
    ("Vous avez supprimé mon compte !", ASK_ERASE),
    ("Que faites-vous de mes données si je résilie ?", ASK_ERASE),
    ("Comment puis-je supprimer mon compte ?", ASK_ERASE),
    ("Mes données seront-elles supprimées si je ferme mon compte ?", ASK_ERASE),
    ("Est-il possible d'effacer mes données ?", ASK_ERASE),
    ("Combien de temps conservez-vous mes données ?", ASK_ERASE),
    ("Comment télécharger mes données ?", ASK_EXPORT),
    ("Comment me désabonner de la newsletter ?", ASK_OPT_OUT),
    ("Où est mon colis ?", None),
    ("Livrez-vous en Belgique ?", None),
]

DUTCH: list[Row] = [
    ("Verwijder mijn gegevens", ERASE),
    ("Ik wil mijn account laten verwijderen", ERASE),
    ("Kunnen jullie mijn gegevens verwijderen?", ERASE),
    ("Wis al mijn gegevens alsjeblieft", ERASE),
    ("Ik maak gebruik van mijn recht op vergetelheid", ERASE),
    ("Graag verwijdering van mijn account", ERASE),
    ("Ik wil een kopie van mijn gegevens", EXPORT),
    ("Kunt u mijn persoonsgegevens exporteren?", EXPORT),
    ("Kan ik een kopie van mijn gegevens krijgen?", EXPORT),
    ("AFMELDEN", OPT_OUT),
    ("uitschrijven", OPT_OUT),
    ("Schrijf me uit voor de nieuwsbrief aub", OPT_OUT),
    ("Ik wil geen mails meer ontvangen", OPT_OUT),
    ("Verwijder mijn gegevens niet", DONT_ERASE),
    ("Mijn account alsjeblieft niet verwijderen", DONT_ERASE),
    ("Ik wil niet dat jullie mijn gegevens wissen", DONT_ERASE),
    ("Meld me niet af, ik lees de nieuwsbrief graag", DONT_OPT_OUT),
    ("Exporteer mijn gegevens niet", DONT_EXPORT),
    ("Wat gebeurt er met mijn gegevens als ik opzeg?", ASK_ERASE),
    ("Hoe kan ik mijn account verwijderen?", ASK_ERASE),
    ("Worden mijn gegevens verwijderd als ik mijn account opzeg?", ASK_ERASE),
    ("Verwijderen jullie automatisch gegevens?", ASK_ERASE),
    ("Hoe lang bewaren jullie mijn gegevens?", ASK_ERASE),
    ("Kan ik mijn account zelf verwijderen?", ASK_ERASE),
    ("Hoe kan ik mijn gegevens downloaden?", ASK_EXPORT),
    ("Hoe meld ik me af voor de nieuwsbrief?", ASK_OPT_OUT),
    ("Waar is mijn pakket?", None),
    ("Hoi", None),
]

PORTUGUESE: list[Row] = [
    ("Apaguem os meus dados", ERASE),
    ("Quero apagar meus dados", ERASE),
    ("Vocês podem apagar meus dados?", ERASE),
    ("Por favor, excluam minha conta", ERASE),
    ("Solicito a exclusão dos meus dados pessoais", ERASE),
    ("Quero exercer meu direito ao esquecimento", ERASE),
    ("Quero uma cópia dos meus dados", EXPORT),
    ("Podem me enviar meus dados?", EXPORT),
    ("Posso receber uma cópia dos meus dados?", EXPORT),
    ("CANCELAR", OPT_OUT),
    ("Não quero mais receber mensagens", OPT_OUT),
    ("Quero me descadastrar da newsletter", OPT_OUT),
    ("Não apaguem os meus dados", DONT_ERASE),
    ("Por favor, não excluam minha conta", DONT_ERASE),
    ("Eu nunca pedi para apagar meus dados", DONT_ERASE),
    ("Não me descadastrem, por favor", DONT_OPT_OUT),
    ("Não quero receber uma cópia dos meus dados", DONT_EXPORT),
    ("O que acontece com meus dados se eu cancelar?", ASK_ERASE),
    ("Como faço para apagar minha conta?", ASK_ERASE),
    ("Meus dados são apagados se eu encerrar a conta?", ASK_ERASE),
    ("É possível excluir meus dados?", ASK_ERASE),
    ("Por quanto tempo vocês guardam meus dados?", ASK_ERASE),
    ("Posso excluir minha conta?", ASK_ERASE),
    ("Como faço para baixar meus dados?", ASK_EXPORT),
    ("Como faço para me descadastrar?", ASK_OPT_OUT),
    ("Onde está minha encomenda?", None),
    ("Bom dia", None),
]

ROWS = ENGLISH + GERMAN + SPANISH + FRENCH + DUTCH + PORTUGUESE
REQUESTS = [(text, ask) for text, ask in ROWS if ask is not None and ask.mode == "request"]
NOT_REQUESTS = [text for text, ask in ROWS if ask is not None and ask.mode != "request"]
