"""The customers benchmarks/intake_turns.py plays: owners of 1C-Bitrix sites with a problem.

Each customer is the facts they know (the 4.2 fields, whether the site is down, the answers to the
optional 4.2.6 questions they would give) and the first message they write. How they answer the
desk's questions is not written here: the benchmark's answering model reads each question and
answers it from these facts, so a customer never needs a script of the dialog.

Groups (GROUPS): `paste` writes everything in one message (prose, form-like lines, or Russian and
English mixed); `terse` names the problem and answers one field at a time; `down` has a site or
service that is down right now (2.2); `english` writes in English; `confused` asks where to find
things and does not know some of them; `rude` insults the staff in the first message (4.8.11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

GROUPS = ("paste", "terse", "down", "english", "confused", "rude")


@dataclass(frozen=True)
class Customer:
    name: str
    group: str
    first: str  # the first message, as the customer writes it
    description: str  # the problem in the customer's words, when asked to describe it
    category: str  # the section-3 category the customer picks when asked (classifier ids)
    site: str
    email: str
    edition: str | None = None  # as in bot.tickets.values.EDITIONS; None: does not know it
    version: str | None = None  # None: does not know it
    coupon: str | None = None  # None: does not know it
    steps: str | None = None  # None: there are no steps, or the customer does not know them
    critical: bool = False  # the site (or one of its services) is down right now (2.2)
    lang: str = "ru"
    details: Mapping[str, str] = field(default_factory=dict)  # 4.2.6 answers by question id
    where_first: tuple[str, ...] = ()  # fields the customer first asks "where do I see that?"
    rephrase: str | None = None  # the polite wording offered when asked to rephrase (4.8.11)


# ----------------------------------------------------------------- everything in one message

PASTE = [
    Customer(
        name="paste-prose-checkout",
        group="paste",
        first=(
            "Добрый день! На сайте shop-kovry.ru после обновления «Интернет-магазина» на 24.0.100 "
            "не оформляется ни один заказ: кладу ковёр в корзину, жму «Оформить заказ» — и "
            "вместо страницы подтверждения белый экран, в логе «Call to a member function "
            "getField() on null». Редакция Малый бизнес, купон SM6-NS-7KD2Q9XW4. Ответ прошу "
            "прислать на admin@shop-kovry.ru"
        ),
        description="После обновления на 24.0.100 не оформляется ни один заказ: белый экран.",
        category="error",
        site="shop-kovry.ru",
        email="admin@shop-kovry.ru",
        edition="Малый бизнес",
        version="24.0.100",
        coupon="SM6-NS-7KD2Q9XW4",
        steps="кладу ковёр в корзину, жму «Оформить заказ»",
        details={
            "error_text": "Call to a member function getField() on null",
            "since": "со вчерашнего вечера, сразу после обновления",
            "changes": "обновили модуль «Интернет-магазин»",
        },
    ),
    Customer(
        name="paste-prose-license-key",
        group="paste",
        first=(
            "Здравствуйте. Не получается обновить stroymarket-nsk.ru: в разделе «Обновление "
            "платформы» пишет «Лицензионный ключ неверен или срок его действия истёк», хотя "
            "поддержку продлевали в марте. Чтобы повторить: открываю Marketplace → Обновление "
            "платформы и нажимаю «Проверить обновления». Версия 23.850.0, редакция Бизнес, купон "
            "BUS-K7-QW83MD21P, почта для ответа it@stroymarket-nsk.ru"
        ),
        description="Система обновлений не принимает лицензионный ключ, хотя поддержка продлена.",
        category="update",
        site="stroymarket-nsk.ru",
        email="it@stroymarket-nsk.ru",
        edition="Бизнес",
        version="23.850.0",
        coupon="BUS-K7-QW83MD21P",
        steps="открываю Marketplace → Обновление платформы и нажимаю «Проверить обновления»",
        details={
            "update_error": "Лицензионный ключ неверен или срок его действия истёк",
            "since": "с начала апреля",
        },
    ),
    Customer(
        name="paste-prose-slow-vps",
        group="paste",
        first=(
            "Сайт vetclinic-lapa.ru после переезда на новый VPS грузится по 8–10 секунд, монитор "
            "производительности показывает 12 баллов, композитный кэш включён. Достаточно "
            "открыть главную страницу в режиме инкогнито. Стандарт, 24.100.0, купон "
            "STD-3M-P9V4X2KLA. Хостинг — VPS у Timeweb, PHP 8.1, MySQL 8.0. Отвечайте на "
            "i.petrova@vetclinic-lapa.ru"
        ),
        description="После переезда на новый VPS страницы грузятся по 8–10 секунд.",
        category="performance",
        site="vetclinic-lapa.ru",
        email="i.petrova@vetclinic-lapa.ru",
        edition="Стандарт",
        version="24.100.0",
        coupon="STD-3M-P9V4X2KLA",
        steps="открыть главную страницу в режиме инкогнито",
        details={
            "hosting": "VPS у Timeweb",
            "php_version": "PHP 8.1",
            "mysql_version": "MySQL 8.0",
        },
    ),
    Customer(
        name="paste-prose-licence-question",
        group="paste",
        first=(
            "Добрый день, вопрос по лицензии: хотим поднять копию сайта tehnika-dom.ru на "
            "тестовом поддомене для разработчика — не нарушает ли это лицензионное соглашение и "
            "нужен ли отдельный ключ? Шагов воспроизведения нет, это вопрос. Редакция Стандарт, "
            "версия 24.300.0, купон STD-Q2-8NXW4KJ7R, адрес для ответа buh@tehnika-dom.ru"
        ),
        description="Можно ли держать копию сайта на тестовом поддомене по той же лицензии?",
        category="theory",
        site="tehnika-dom.ru",
        email="buh@tehnika-dom.ru",
        edition="Стандарт",
        version="24.300.0",
        coupon="STD-Q2-8NXW4KJ7R",
        details={"module": "Главный модуль, лицензирование"},
    ),
    Customer(
        name="paste-form-mail-function",
        group="paste",
        first=(
            "Описание: не уходят письма из формы обратной связи, в журнале событий «mail(): "
            "Could not instantiate mail function»\n"
            "Шаги: заполнить форму на странице /contacts/ и нажать «Отправить»\n"
            "Сайт: https://pechi-kaminy.ru\n"
            "Редакция: Старт\n"
            "Версия: 24.200.0\n"
            "Купон: ST-9QX-44LMN2R7C\n"
            "E-mail: zakaz@pechi-kaminy.ru"
        ),
        description="Не уходят письма из формы обратной связи.",
        category="error",
        site="pechi-kaminy.ru",
        email="zakaz@pechi-kaminy.ru",
        edition="Старт",
        version="24.200.0",
        coupon="ST-9QX-44LMN2R7C",
        steps="заполнить форму на странице /contacts/ и нажать «Отправить»",
        details={"error_text": "mail(): Could not instantiate mail function"},
    ),
    Customer(
        name="paste-form-smart-filter",
        group="paste",
        first=(
            "Здравствуйте, по регламенту:\n"
            "- Проблема: после смены шаблона перестал работать умный фильтр в каталоге, при "
            "выборе цены товары не фильтруются\n"
            "- Как воспроизвести: Каталог → Диваны → в фильтре указать цену от 20000 до 40000 → "
            "«Показать»\n"
            "- Адрес сайта: мебель-на-заказ.рф\n"
            "- Редакция: Малый бизнес\n"
            "- Версия: 24.0.100\n"
            "- Номер купона: SM6-VV-2Q8ZKX5RT\n"
            "- Почта: manager@mebel-na-zakaz.ru"
        ),
        description="После смены шаблона не работает умный фильтр каталога по цене.",
        category="error",
        site="мебель-на-заказ.рф",
        email="manager@mebel-na-zakaz.ru",
        edition="Малый бизнес",
        version="24.0.100",
        coupon="SM6-VV-2Q8ZKX5RT",
        steps="Каталог → Диваны → в фильтре указать цену от 20000 до 40000",
        details={"changes": "сменили шаблон сайта"},
    ),
    Customer(
        name="paste-form-ldap-portal",
        group="paste",
        first=(
            "Адрес портала: portal.agrohim.ru\n"
            "Редакция: Корпоративный портал\n"
            "Версия: 24.100.300\n"
            "Купон: CP-7T4-XR92MKD3Q\n"
            "Почта: admin.portal@agrohim.ru\n"
            "Описание: сотрудники не могут войти доменной учётной записью, после ввода пароля "
            "страница входа просто перезагружается, в журнале «LDAP: bind failed»\n"
            "Шаги: открыть страницу входа, ввести доменный логин и пароль, нажать «Войти»"
        ),
        description="Сотрудники не могут войти на портал доменной учётной записью (LDAP).",
        category="error",
        site="portal.agrohim.ru",
        email="admin.portal@agrohim.ru",
        edition="Корпоративный портал",
        version="24.100.300",
        coupon="CP-7T4-XR92MKD3Q",
        steps="открыть страницу входа, ввести доменный логин и пароль",
        details={"error_text": "LDAP: bind failed"},
    ),
    Customer(
        name="paste-mixed-memory-limit",
        group="paste",
        first=(
            "Hi! На b2b.tehnoprom.com после апдейта до 25.100.200 в разделе заказов Fatal error: "
            "Allowed memory size of 268435456 bytes exhausted (tried to allocate 20480 bytes). "
            "Steps: login as dealer → Мои заказы → фильтр за год. Edition Энтерпрайз, coupon "
            "ENT-8H2-ZK4Q7PW1M, reply to sergey.volkov@tehnoprom.com"
        ),
        description="После обновления до 25.100.200 раздел заказов падает с нехваткой памяти.",
        category="error",
        site="b2b.tehnoprom.com",
        email="sergey.volkov@tehnoprom.com",
        edition="Энтерпрайз",
        version="25.100.200",
        coupon="ENT-8H2-ZK4Q7PW1M",
        steps="login as dealer → Мои заказы → фильтр за год",
        details={"error_text": "Allowed memory size of 268435456 bytes exhausted"},
    ),
    Customer(
        name="paste-mixed-1c-exchange",
        group="paste",
        first=(
            "Добрый день, site: kolbasy-optom.ru, version 24.200.100, редакция Бизнес, coupon "
            "BUS-5J-MM37QX8ZT. Problem: выгрузка из 1С падает на шаге импорта предложений, в "
            "логе «Ошибка сессии, файл offers.xml не найден». Воспроизводится при каждом запуске "
            "обмена из 1С:УТ 11. email: 1c@kolbasy-optom.ru"
        ),
        description="Обмен с 1С падает на импорте предложений: файл offers.xml не найден.",
        category="error",
        site="kolbasy-optom.ru",
        email="1c@kolbasy-optom.ru",
        edition="Бизнес",
        version="24.200.100",
        coupon="BUS-5J-MM37QX8ZT",
        steps="при каждом запуске обмена из 1С:УТ 11",
        details={"error_text": "Ошибка сессии, файл offers.xml не найден"},
    ),
    Customer(
        name="paste-mixed-install-db",
        group="paste",
        first=(
            "Hello, ставим коробку на свой сервер (Ubuntu 22.04, nginx + php-fpm 8.2), "
            "bitrixsetup.php останавливается на шаге «Создание базы данных» с ошибкой «Access "
            "denied for user 'bitrix0'@'localhost'». Site: new.kraska-market.ru, edition Старт, "
            "version 24.300.0, coupon ST-HZ8-5KQ2WNX4P, e-mail devops@kraska-market.ru. Steps: "
            "запускаю bitrixsetup.php, выбираю дистрибутив, дохожу до создания БД."
        ),
        description="Установка останавливается на создании базы данных: Access denied.",
        category="install",
        site="new.kraska-market.ru",
        email="devops@kraska-market.ru",
        edition="Старт",
        version="24.300.0",
        coupon="ST-HZ8-5KQ2WNX4P",
        steps="запускаю bitrixsetup.php, выбираю дистрибутив, дохожу до создания БД",
        details={"hosting": "свой сервер, nginx + php-fpm", "php_version": "8.2"},
    ),
]

# ------------------------------------------------------------------- one field at a time

TERSE = [
    Customer(
        name="terse-search",
        group="terse",
        first="Поиск по сайту ничего не находит",
        description="Поиск по сайту ничего не находит, даже товары с точным названием.",
        category="error",
        site="santehnika-vsem.ru",
        email="shop@santehnika-vsem.ru",
        edition="Стандарт",
        version="24.0.100",
        coupon="STD-8K-3ZQ7RW5MN",
        steps="ввести в поиск «смеситель» и нажать Enter",
    ),
    Customer(
        name="terse-order-mail",
        group="terse",
        first="Не приходят уведомления о заказах на почту",
        description="Не приходят письма о новых заказах.",
        category="error",
        site="zoomagazin-barsik.ru",
        email="barsik.zoo@yandex.ru",
        edition="Малый бизнес",
        version="23.900.0",
        coupon="SM6-ZB-6QW2KX9TM",
        steps="оформить тестовый заказ на сайте",
    ),
    Customer(
        name="terse-two-factor",
        group="terse",
        first="Как включить двухфакторную авторизацию для администраторов?",
        description="Как включить двухфакторную авторизацию для администраторов сайта?",
        category="theory",
        site="autoservis-kazan.ru",
        email="admin@autoservis-kazan.ru",
        edition="Бизнес",
        version="24.100.0",
        coupon="BUS-AK-4MX8QZ2WR",
        details={"module": "Проактивная защита"},
    ),
    Customer(
        name="terse-slow-admin",
        group="terse",
        first="Очень медленно работает админка",
        description="Список товаров в админке открывается по полминуты.",
        category="performance",
        site="optika-zrenie.ru",
        email="web@optika-zrenie.ru",
        edition="Стандарт",
        version="24.200.0",
        coupon="STD-OZ-7KQ3XW8MP",
        steps="открыть список товаров в административном разделе",
        details={"hosting": "виртуальный хостинг Beget"},
    ),
    Customer(
        name="terse-update-unpack",
        group="terse",
        first="Не ставятся обновления",
        description="Обновления скачиваются, но не устанавливаются.",
        category="update",
        site="tury-altai.ru",
        email="info@tury-altai.ru",
        edition="Старт",
        version="23.700.0",
        coupon="ST-TA-9QX4MK2WZ",
        steps="Обновление платформы → «Установить обновления»",
        details={"update_error": "[UPDATE_SYSTEM] Ошибка распаковки архива обновлений"},
    ),
    Customer(
        name="terse-cart-layout",
        group="terse",
        first="Поехала вёрстка корзины после обновления шаблона",
        description="После обновления шаблона поехала вёрстка страницы корзины.",
        category="error",
        site="cvety-ekb.ru",
        email="cvety.ekb@mail.ru",
        edition="Малый бизнес",
        version="24.0.100",
        coupon="SM6-CE-2ZW8QK5XM",
        steps="положить букет в корзину и открыть корзину",
        details={"browser": "Chrome 124, в Firefox так же"},
    ),
    Customer(
        name="terse-lost-pictures",
        group="terse",
        first="Пропали картинки у товаров",
        description="У части товаров в каталоге пропали картинки.",
        category="error",
        site="detskie-igrushki.shop",
        email="zakaz@detskie-igrushki.shop",
        edition="Бизнес",
        version="24.100.0",
        coupon="BUS-DI-8XQ2MW4KZ",
        steps="открыть раздел «Конструкторы»",
    ),
]

# ------------------------------------------------------------------------- the site is down

DOWN = [
    Customer(
        name="down-paste-503",
        group="down",
        first=(
            "Сайт лежит! С 9 утра на всех страницах kolesa-shina.ru отдаёт «503 Service "
            "Temporarily Unavailable», клиенты не могут сделать заказ. Ничего не трогали. "
            "Воспроизводится так: открыть любую страницу сайта. Бизнес редакция, версия "
            "24.100.0, купон BUS-2W-9PXK4QM7T, пишите на sos@kolesa-shina.ru"
        ),
        description="С утра все страницы сайта отдают 503, заказы не оформляются.",
        category="error",
        site="kolesa-shina.ru",
        email="sos@kolesa-shina.ru",
        edition="Бизнес",
        version="24.100.0",
        coupon="BUS-2W-9PXK4QM7T",
        steps="открыть любую страницу сайта",
        critical=True,
        details={"error_text": "503 Service Temporarily Unavailable", "since": "с 9 утра"},
    ),
    Customer(
        name="down-terse-db-error",
        group="down",
        first="СРОЧНО!!! Сайт не открывается, пишет DB query error. Please try later.",
        description="Сайт не открывается: DB query error.",
        category="error",
        site="apteka-zdorovie.ru",
        email="apteka.zdorovie@gmail.com",
        edition="Стандарт",
        version="23.950.0",
        coupon="STD-AZ-3KX9QW7MT",
        critical=True,
        details={"error_text": "DB query error. Please try later."},
    ),
    Customer(
        name="down-white-screen",
        group="down",
        first=(
            "Всё упало после обновления ядра: белый экран и на сайте shop.elektrika-pro.ru, и в "
            "админке, магазин стоит. Малый бизнес, обновились до 25.0.0, почта "
            "alex@elektrika-pro.ru"
        ),
        description="После обновления ядра белый экран и на сайте, и в админке.",
        category="update",
        site="shop.elektrika-pro.ru",
        email="alex@elektrika-pro.ru",
        edition="Малый бизнес",
        version="25.0.0",
        coupon="SM6-EP-5MQ8XK2WT",
        critical=True,
        details={"since": "сразу после обновления"},
    ),
    Customer(
        name="down-payments",
        group="down",
        first=(
            "Третий час не проходит оплата картой на pizza-tut.ru: модуль ЮKassa отвечает "
            "«Invalid signature», все заказы висят неоплаченными"
        ),
        description="Оплата картой не проходит: ЮKassa отвечает Invalid signature.",
        category="error",
        site="pizza-tut.ru",
        email="pay@pizza-tut.ru",
        edition="Малый бизнес",
        version="24.200.0",
        coupon="SM6-PT-7WQ2XK9MZ",
        steps="оформить заказ и выбрать оплату картой",
        critical=True,
        details={"error_text": "Invalid signature"},
    ),
    Customer(
        name="down-english-502",
        group="down",
        lang="en",
        first=(
            "Our site is down: every page returns 502 Bad Gateway since the hosting moved us to "
            "a new server. This is urgent. Site: https://bikeparts-shop.com, edition Business, "
            "version 24.200.0, coupon BUS-7R-LQ2XW94KM, email ops@bikeparts-shop.com"
        ),
        description="Every page returns 502 Bad Gateway after the move to a new server.",
        category="error",
        site="bikeparts-shop.com",
        email="ops@bikeparts-shop.com",
        edition="Бизнес",
        version="24.200.0",
        coupon="BUS-7R-LQ2XW94KM",
        critical=True,
        details={"changes": "the hosting moved the site to a new server"},
    ),
    Customer(
        name="down-class-not-found",
        group="down",
        first=(
            "Сайт stroy-materialy.ru выдаёт 500 на всех страницах, в error.log: PHP Fatal error: "
            'Uncaught Error: Class "Bitrix\\Main\\Loader" not found. Версия 24.300.0, купон '
            "BUS-SM-4XK7QW2MZ"
        ),
        description="Все страницы отдают 500: класс Bitrix\\Main\\Loader не найден.",
        category="error",
        site="stroy-materialy.ru",
        email="tech@stroy-materialy.ru",
        edition="Бизнес",
        version="24.300.0",
        coupon="BUS-SM-4XK7QW2MZ",
        critical=True,
    ),
    Customer(
        name="down-stub-page",
        group="down",
        first=(
            "Помогите, сайт turbaza-ozero.ru не работает: вместо главной висит заглушка «Сайт "
            "временно недоступен», админка тоже не пускает. Купон SM6-AA-5WQ8XT3KN, почта "
            "booking@turbaza-ozero.ru"
        ),
        description="Вместо сайта заглушка «Сайт временно недоступен», админка не открывается.",
        category="error",
        site="turbaza-ozero.ru",
        email="booking@turbaza-ozero.ru",
        edition="Малый бизнес",
        coupon="SM6-AA-5WQ8XT3KN",
        critical=True,
    ),
]

# ------------------------------------------------------------------------------ in English

ENGLISH = [
    Customer(
        name="english-paste-payment",
        group="english",
        lang="en",
        first=(
            "Hello, after updating to 24.0.100 the checkout on https://teashop-moscow.com fails "
            "with “Error: Payment system not found” when a customer picks a bank card. Steps: add "
            "any tea to the cart, go to checkout, choose “Bank card”. Edition: Small Business, "
            "coupon SM6-TT-9MXQ2K7LW. Please reply to owner@teashop-moscow.com"
        ),
        description="After the update the checkout fails with “Payment system not found”.",
        category="error",
        site="teashop-moscow.com",
        email="owner@teashop-moscow.com",
        edition="Малый бизнес",
        version="24.0.100",
        coupon="SM6-TT-9MXQ2K7LW",
        steps="add any tea to the cart, go to checkout, choose “Bank card”",
        details={"error_text": "Error: Payment system not found"},
    ),
    Customer(
        name="english-terse-images",
        group="english",
        lang="en",
        first="Product images disappeared after we migrated the site",
        description="Product images are missing after the site was migrated to a new host.",
        category="error",
        site="furniture-design.pro",
        email="studio@furniture-design.pro",
        edition="Стандарт",
        version="24.100.0",
        coupon="STD-FD-2KQ9XW7MZ",
        steps="open any product page",
    ),
    Customer(
        name="english-move-to-vps",
        group="english",
        lang="en",
        first="How do I move my Bitrix site from shared hosting to a VPS without losing orders?",
        description="How to move the site from shared hosting to a VPS keeping all orders.",
        category="install",
        site="craftbeer-store.ru",
        email="maxim@craftbeer-store.ru",
        edition="Малый бизнес",
        version="24.200.0",
        coupon="SM6-CB-8QX3MW2KT",
        details={"hosting": "shared hosting at Beget, moving to a VPS"},
    ),
    Customer(
        name="english-update-server",
        group="english",
        lang="en",
        first=(
            "The update system says “Connection to the update server failed” every time I try to "
            "install updates on nordic-knives.com"
        ),
        description="Updates fail with “Connection to the update server failed”.",
        category="update",
        site="nordic-knives.com",
        email="admin@nordic-knives.com",
        edition="Стандарт",
        version="23.800.0",
        coupon="STD-NK-5WQ2XK8MT",
        steps="Updates → Check for updates",
        details={"update_error": "Connection to the update server failed"},
    ),
    Customer(
        name="english-form-license",
        group="english",
        lang="en",
        first=(
            "Problem: the admin panel says “Your license has expired” although support is paid "
            "until December\n"
            "Site: https://english-school-spb.ru\n"
            "Edition: Standard\n"
            "Version: 24.100.0\n"
            "Coupon: STD-EN-4QK8ZP2XW\n"
            "E-mail: director@english-school-spb.ru"
        ),
        description="The admin panel says the license has expired though support is paid.",
        category="theory",
        site="english-school-spb.ru",
        email="director@english-school-spb.ru",
        edition="Стандарт",
        version="24.100.0",
        coupon="STD-EN-4QK8ZP2XW",
    ),
    Customer(
        name="english-cyrillic-search",
        group="english",
        lang="en",
        first=(
            "Hi, the search page returns nothing for Cyrillic queries while Latin ones work "
            "fine. Site yoga-studio-om.ru, Business edition, version 24.200.100."
        ),
        description="Site search finds nothing for Cyrillic queries; Latin queries work.",
        category="error",
        site="yoga-studio-om.ru",
        email="hello@yoga-studio-om.ru",
        edition="Бизнес",
        version="24.200.100",
        coupon="BUS-YS-3MX7QW9KZ",
        steps="search for «йога» on the search page",
    ),
    Customer(
        name="english-slow-catalog",
        group="english",
        lang="en",
        first=(
            "Our catalog page takes 15 seconds to load since we imported 20,000 products. PHP "
            "8.2, MySQL 8.0, a VPS with 4 GB of RAM."
        ),
        description="The catalog page takes 15 seconds to load after importing 20,000 products.",
        category="performance",
        site="gadget-hub.store",
        email="tech@gadget-hub.store",
        edition="Бизнес",
        version="24.300.0",
        coupon="BUS-GH-6KQ2XW8MT",
        steps="open the Catalog page",
        details={"php_version": "8.2", "mysql_version": "MySQL 8.0", "hosting": "a VPS"},
    ),
]

# --------------------------------------------------------------- not sure where things are

CONFUSED = [
    Customer(
        name="confused-add-to-cart",
        group="confused",
        first=(
            "Здравствуйте, я менеджер, а не программист. У нас на сайте перестали добавляться "
            "товары в корзину: кнопка нажимается, но ничего не происходит."
        ),
        description="Товары не добавляются в корзину: кнопка нажимается, ничего не происходит.",
        category="error",
        site="podarki-ural.ru",
        email="manager@podarki-ural.ru",
        coupon="SM6-PU-4XQ8MW2KT",
        steps="открыть любой товар и нажать «В корзину»",
        where_first=("edition", "version", "coupon"),
    ),
    Customer(
        name="confused-sometimes-error",
        group="confused",
        first=(
            "Нам сказали написать в поддержку. Сайт странно работает: иногда выдаёт ошибку, "
            "иногда нет."
        ),
        description="Сайт иногда выдаёт ошибку при открытии страниц, иногда работает.",
        category="error",
        site="salon-krasoty-liza.ru",
        email="liza.salon@mail.ru",
        edition="Старт",
        where_first=("version", "coupon"),
    ),
    Customer(
        name="confused-lost-leads",
        group="confused",
        first=(
            "Подскажите, пожалуйста, куда пропали заявки с сайта? Раньше приходили на почту, "
            "теперь нет."
        ),
        description="Заявки с сайта перестали приходить на почту.",
        category="error",
        site="remont-kvartir-spb.ru",
        email="zayavki@remont-kvartir-spb.ru",
        coupon="SM6-RK-8TQ4ZW2XN",
        steps="отправить заявку через форму «Рассчитать ремонт»",
        where_first=("coupon",),
    ),
    Customer(
        name="confused-admin-login",
        group="confused",
        first=(
            "Добрый день. Не могу зайти в админку, пишет «Неверный логин или пароль», хотя "
            "пароль точно правильный"
        ),
        description="Не пускает в административный раздел: «Неверный логин или пароль».",
        category="error",
        site="hlebozavod-5.ru",
        email="director@hlebozavod-5.ru",
        edition="Стандарт",
        version="24.0.100",
        coupon="STD-HZ-9MQ2XK4WT",
        steps="открыть /bitrix/admin/ и ввести логин и пароль",
        where_first=("version",),
    ),
    Customer(
        name="confused-no-prices",
        group="confused",
        first="сайт не показывает цены, вместо цены пусто",
        description="В каталоге не показываются цены товаров.",
        category="error",
        site="stanki-metall.ru",
        email="sales@stanki-metall.ru",
        edition="Бизнес",
        where_first=("edition", "version", "coupon"),
    ),
    Customer(
        name="confused-booking-form",
        group="confused",
        first="У нас перестала работать форма записи на приём",
        description="Форма записи на приём не отправляется.",
        category="error",
        site="stomatologiya-ulybka.ru",
        email="registratura@stomatologiya-ulybka.ru",
        edition="Стандарт",
        version="23.900.0",
        steps="заполнить форму «Записаться на приём» и нажать «Отправить»",
        where_first=("version", "coupon"),
    ),
]

# ------------------------------------------------------------------------ an insult first

RUDE = [
    Customer(
        name="rude-idiots-checkout",
        group="rude",
        first=(
            "Вы там идиоты совсем? После вашего обновления на 24.0.100 сайт mebel-lux.ru не "
            "оформляет заказы, ошибка 500. Бизнес редакция, купон BUS-9D-KX3QW7M2P, почта "
            "boss@mebel-lux.ru"
        ),
        description="После обновления на 24.0.100 сайт не оформляет заказы, ошибка 500.",
        category="error",
        site="mebel-lux.ru",
        email="boss@mebel-lux.ru",
        edition="Бизнес",
        version="24.0.100",
        coupon="BUS-9D-KX3QW7M2P",
        steps="оформить любой заказ",
        rephrase="После обновления на 24.0.100 сайт не оформляет заказы, ошибка 500.",
    ),
    Customer(
        name="rude-catalog-404",
        group="rude",
        first=(
            "Какого чёрта у вас опять всё сломалось, придурки?! Каталог на sport-pit.ru "
            "отдаёт 404 во всех разделах"
        ),
        description="Все разделы каталога отдают 404.",
        category="error",
        site="sport-pit.ru",
        email="owner@sport-pit.ru",
        edition="Малый бизнес",
        version="24.200.0",
        coupon="SM6-SP-2KX8QW5MT",
        steps="открыть любой раздел каталога",
    ),
    Customer(
        name="rude-shop-ruined",
        group="rude",
        first=(
            "Ваши криворукие уроды угробили мне магазин: после обновления не работает личный "
            "кабинет покупателя на obuv-market.ru"
        ),
        description="После обновления не открывается личный кабинет покупателя.",
        category="error",
        site="obuv-market.ru",
        email="obuv.market@yandex.ru",
        edition="Бизнес",
        version="24.300.0",
        coupon="BUS-OM-7QX3MW9KT",
        steps="войти на сайт покупателем и открыть «Личный кабинет»",
        rephrase="После обновления не открывается личный кабинет покупателя.",
    ),
    Customer(
        name="rude-english-idiots",
        group="rude",
        lang="en",
        first=(
            "You idiots broke my shop again. Since your update the cart on "
            "https://watch-outlet.com is empty after every page reload."
        ),
        description="Since the update the cart is empty after every page reload.",
        category="error",
        site="watch-outlet.com",
        email="sales@watch-outlet.com",
        edition="Малый бизнес",
        version="24.200.100",
        coupon="SM6-WO-5MQ2XK8WT",
        steps="add a watch to the cart and reload the page",
        rephrase="Since the update the cart is empty after every page reload.",
    ),
    Customer(
        name="rude-1c-exchange",
        group="rude",
        first=(
            "Сколько можно, дебилы, третий день не работает обмен с 1С на agro-semena.ru, "
            "товары не выгружаются"
        ),
        description="Третий день не выгружаются товары при обмене с 1С.",
        category="error",
        site="agro-semena.ru",
        email="1c@agro-semena.ru",
        edition="Бизнес",
        version="24.100.0",
        coupon="BUS-AS-8WQ4XK2MZ",
        steps="запустить обмен из 1С",
    ),
]

CUSTOMERS: tuple[Customer, ...] = (*PASTE, *TERSE, *DOWN, *ENGLISH, *CONFUSED, *RUDE)
