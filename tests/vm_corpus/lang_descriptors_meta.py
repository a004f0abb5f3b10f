"""Descriptors and metaclasses: typed fields, __set_name__, registries, __init_subclass__, __prepare__."""


class Typed:
    def __init__(self, kind, default=None):
        self.kind = kind
        self.default = default

    def __set_name__(self, owner, name):
        self.name = name
        self.slot = "_" + name

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return getattr(instance, self.slot, self.default)

    def __set__(self, instance, value):
        if not isinstance(value, self.kind):
            raise TypeError(f"{self.name} must be {self.kind.__name__}, not {type(value).__name__}")
        setattr(instance, self.slot, value)


class Positive(Typed):
    def __set__(self, instance, value):
        super().__set__(instance, value)
        if value <= 0:
            raise ValueError(f"{self.name} must be positive")


class Registry(type):
    classes = {}

    @classmethod
    def __prepare__(mcls, name, bases, **kwargs):
        namespace = {"order": []}
        return namespace

    def __new__(mcls, name, bases, namespace, **kwargs):
        namespace["fields"] = [k for k, v in namespace.items() if isinstance(v, Typed)]
        cls = super().__new__(mcls, name, bases, namespace)
        if kwargs.get("register", True):
            mcls.classes[name] = cls
        return cls

    def __init__(cls, name, bases, namespace, **kwargs):
        super().__init__(name, bases, namespace)

    def __call__(cls, *args, **kwargs):
        instance = super().__call__(*args, **kwargs)
        instance.created_by_meta = True
        return instance

    def __repr__(cls):
        return f"<model {cls.__name__}>"


class Model(metaclass=Registry, register=False):
    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)

    def __init_subclass__(cls, table=None, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.table = table or cls.__name__.lower() + "s"

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields)
        return f"{type(self).__name__}({inner})"


class Product(Model, table="catalog"):
    name = Typed(str, "")
    price = Positive(float, 1.0)
    stock = Typed(int, 0)


class User(Model):
    login = Typed(str)


class Cached:
    """A non-data descriptor that caches on first access."""

    def __init__(self, fn):
        self.fn = fn

    def __get__(self, instance, owner):
        value = self.fn(instance)
        instance.__dict__[self.fn.__name__] = value
        return value


class Report:
    calls = 0

    @Cached
    def summary(self):
        Report.calls += 1
        return "computed"


p = Product(name="pen", price=2.5)
print(p, p.created_by_meta, Product.table, User.table, Product.fields)
print(sorted(Registry.classes), Registry.classes["User"], type(Product).__name__)
print(Product.name.slot, Product.price.default, User().login)
for bad in ({"price": -1.0}, {"stock": "many"}):
    try:
        Product(**bad)
    except (TypeError, ValueError) as error:
        print(type(error).__name__, error)
r = Report()
print(r.summary, r.summary, Report.calls, "summary" in vars(r))
Dynamic = Registry("Dynamic", (Model,), {"code": Typed(int, 7)})
print(Dynamic, Dynamic().code, Dynamic.table, "order" in vars(Product))
Product(name=3)
